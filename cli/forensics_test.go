package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// forensics is the scan of a sandbox account synced (events give keys) and
// joined with the merchant's own key log, as `keys import` loads it.
type forensics struct {
	Groups []struct {
		ID         string `json:"id"`
		Cause      string `json:"cause"`
		Confidence string `json:"confidence"`
		Reasons    []string
		Charges    []struct {
			ID          string `json:"id"`
			Role        string `json:"role"`
			KeyEvidence string `json:"key_evidence"`
		} `json:"charges"`
	} `json:"groups"`
	Findings []struct {
		Kind     string `json:"kind"`
		ChargeID string `json:"charge_id"`
		Key      string `json:"key"`
	} `json:"findings"`
	Summary struct {
		ChargesWithoutKey int            `json:"charges_without_key"`
		Causes            map[string]int `json:"causes"`
	} `json:"summary"`
}

// TestCausesAndFindings checks the cause of every duplicate scenario and every
// reconciliation kind against the sandbox's seeded story.
func TestCausesAndFindings(t *testing.T) {
	t.Parallel()
	sb, url := listenSandbox(t, sandbox.Options{Seed: 21, Ordinary: 300})
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	remote := []string{"--db", db, "--api-key", sandbox.TestKey, "--api-base", url}
	if code, _, stderr := runCLI(t, "", append([]string{"sync"}, remote...)...); code != 0 {
		t.Fatalf("sync exited %d: %s", code, stderr)
	}
	keyLog := filepath.Join(dir, "keys.csv")
	f, err := os.Create(keyLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.WriteKeyLogCSV(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if code, _, stderr := runCLI(t, "", "keys", "import", keyLog, "--db", db); code != 0 {
		t.Fatalf("keys import exited %d: %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "", "scan", "--format", "json", "--list-keyless", "--db", db)
	if code != 0 {
		t.Fatalf("scan exited %d: %s", code, stderr)
	}
	var got forensics
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	groupOf := map[string]int{}
	for i, g := range got.Groups {
		for _, c := range g.Charges {
			groupOf[c.ID] = i
		}
	}

	wantCause := map[string]string{
		"double_click/1":               "no_key", // only keys a Stripe library generated
		"double_click/2":               "double_submit",
		"double_click/3":               "no_key",
		"retry_new_key/1":              "new_key_per_retry",
		"retry_new_key/2":              "new_key_per_retry", // older than the events: the key log tells
		"key_reused_after_expiry/1":    "key_reused_after_expiry",
		"key_reused_after_expiry/2":    "key_reused_after_expiry",
		"intent_per_attempt/1":         "new_key_per_retry",
		"intent_per_attempt/2":         "unknown", // older than the events: not known
		"intent_without_key/1":         "no_key",
		"double_checkout/1":            "double_checkout", // the sessions' client_reference_id
		"double_checkout/2":            "unknown",         // older than the events: no session, no key known
		"double_checkout/3":            "double_checkout", // the sessions' metadata order_id
		"checkout_without_reference/1": "unknown",         // Stripe made the PaymentIntents; no cart to compare
	}
	fixes := map[string]string{
		"intent_per_attempt/1":         "reuse the order's PaymentIntent instead of creating one per attempt",
		"double_checkout/1":            "reuse its open session, or expire it",
		"checkout_without_reference/1": "Stripe Checkout created these PaymentIntents (sessions cs_",
	}
	for _, sc := range sb.ScenarioList() {
		t.Run(sc.Name, func(t *testing.T) {
			i, grouped := groupOf[sc.Charges[len(sc.Charges)-1]]
			if !sc.Duplicate {
				if grouped && got.Groups[i].Confidence != "low" {
					t.Errorf("%s (%s) is reported as a %s-confidence duplicate", sc.Name, sc.Note, got.Groups[i].Confidence)
				}
				return
			}
			if !grouped {
				t.Fatalf("%s (%s) is not in any group", sc.Name, sc.Note)
			}
			g := got.Groups[i]
			if want, ok := wantCause[sc.Name]; ok && g.Cause != want {
				t.Errorf("%s: cause %s, want %s (reasons %q)", sc.Name, g.Cause, want, g.Reasons)
			}
			if g.Cause != "unknown" && !strings.Contains(strings.Join(g.Reasons, " "), g.Cause+":") {
				t.Errorf("%s: no reason says what to fix for %s: %q", sc.Name, g.Cause, g.Reasons)
			}
			if fix := fixes[sc.Name]; !strings.Contains(strings.Join(g.Reasons, " "), fix) {
				t.Errorf("%s: no reason says %q: %q", sc.Name, fix, g.Reasons)
			}
			// Never accused without evidence: no_key needs a charge known to
			// have been sent without an application key.
			if g.Cause == "no_key" && !slices.ContainsFunc(g.Charges, func(c struct {
				ID          string `json:"id"`
				Role        string `json:"role"`
				KeyEvidence string `json:"key_evidence"`
			}) bool {
				return c.KeyEvidence == "no_application_key"
			}) {
				t.Errorf("%s: no_key without a charge known to have been sent without a key: %+v", sc.Name, g.Charges)
			}
		})
	}

	kinds := map[string]int{}
	for _, f := range got.Findings {
		kinds[f.Kind]++
	}
	keyless := 0
	for _, e := range sb.KeyLog() {
		if e.ChargeID == "" {
			keyless++
		}
	}
	if kinds["key_without_charge"] < 1 || kinds["key_without_charge"] > keyless {
		t.Errorf("%d key_without_charge findings; the key log has %d keys without a charge", kinds["key_without_charge"], keyless)
	}
	if kinds["order_with_multiple_charges"] == 0 {
		t.Errorf("no order_with_multiple_charges finding, though retries charged one order twice")
	}
	if kinds["charge_without_key"] != got.Summary.ChargesWithoutKey || got.Summary.ChargesWithoutKey == 0 {
		t.Errorf("--list-keyless listed %d charges without a key, the summary counts %d",
			kinds["charge_without_key"], got.Summary.ChargesWithoutKey)
	}
	total := 0
	for _, n := range got.Summary.Causes {
		total += n
	}
	if total != len(got.Groups) {
		t.Errorf("cause counts add up to %d for %d groups", total, len(got.Groups))
	}
}
