package stripeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func writeConfig(t *testing.T, dir, body string) {
	t.Helper()
	path := filepath.Join(dir, "stripe", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

const cliConfig = `color = ""

[default]
  device_name = "laptop"
  live_mode_api_key = "rk_live_livelivelivelivelive1234"
  test_mode_api_key = "rk_test_fromconfigfromconfig9z9z"

[other]
  test_mode_api_key = "sk_test_otherprofileotherprofile"
`

func TestResolveKey(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, filepath.Join(home, ".config"), cliConfig)
	xdg := t.TempDir()
	writeConfig(t, xdg, "[default]\ntest_mode_api_key = 'sk_test_xdgxdgxdgxdgxdgxdg7777'\n")
	commented := t.TempDir()
	writeConfig(t, commented, "[default]\ntest_mode_api_key = \"rk_test_commentedcommented1111\" # from stripe login\n")
	noDefault := t.TempDir()
	writeConfig(t, noDefault, "[other]\ntest_mode_api_key = \"sk_test_otherprofileotherprofile\"\n")

	tests := []struct {
		name       string
		flag       string
		env        map[string]string
		home       string
		wantSecret string
		wantSource string
		wantLive   bool
		wantErr    error  // errors.Is
		wantMsg    string // substring of the error
	}{
		{name: "flag wins over everything", flag: "sk_live_flagflagflagflagflag1", env: map[string]string{"STRIPE_API_KEY": "sk_test_envenvenvenvenvenv22"}, home: home,
			wantSecret: "sk_live_flagflagflagflagflag1", wantSource: "--api-key", wantLive: true},
		{name: "environment over config", env: map[string]string{"STRIPE_API_KEY": " sk_test_envenvenvenvenvenv22\n"}, home: home,
			wantSecret: "sk_test_envenvenvenvenvenv22", wantSource: "STRIPE_API_KEY"},
		{name: "stripe CLI default profile test key", env: map[string]string{}, home: home,
			wantSecret: "rk_test_fromconfigfromconfig9z9z", wantSource: filepath.Join(home, ".config", "stripe", "config.toml")},
		{name: "XDG_CONFIG_HOME honoured", env: map[string]string{"XDG_CONFIG_HOME": xdg}, home: home,
			wantSecret: "sk_test_xdgxdgxdgxdgxdgxdg7777", wantSource: filepath.Join(xdg, "stripe", "config.toml")},
		{name: "config value with a comment", env: map[string]string{"XDG_CONFIG_HOME": commented}, home: home,
			wantSecret: "rk_test_commentedcommented1111", wantSource: filepath.Join(commented, "stripe", "config.toml")},
		{name: "config without a default profile", env: map[string]string{"XDG_CONFIG_HOME": noDefault}, home: home, wantErr: ErrNoKey},
		{name: "nothing anywhere", env: map[string]string{}, home: t.TempDir(), wantErr: ErrNoKey},
		{name: "restricted live key", flag: "rk_live_abcdefabcdefabcdef", env: map[string]string{},
			wantSecret: "rk_live_abcdefabcdefabcdef", wantSource: "--api-key", wantLive: true},
		{name: "publishable key", flag: "pk_test_publishablepublishable", env: map[string]string{}, wantMsg: "publishable key"},
		{name: "not a key at all", env: map[string]string{"STRIPE_API_KEY": "hunter2-hunter2"},
			wantMsg: "the key from STRIPE_API_KEY does not look like a Stripe secret key (sk_… or rk_…)"},
		{name: "prefix only", flag: "sk_test_", env: map[string]string{}, wantMsg: "does not look like a Stripe secret key"},
		{name: "unknown mode", flag: "sk_prod_abcdefabcdefabcdef", env: map[string]string{}, wantMsg: "does not look like a Stripe secret key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ResolveKey(tt.flag, envOf(tt.env), tt.home)
			if tt.wantErr != nil || tt.wantMsg != "" {
				if err == nil {
					t.Fatalf("ResolveKey = %v, want an error", key)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %q, want %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("error %q, want it to contain %q", err, tt.wantMsg)
				}
				for _, secret := range []string{tt.flag, tt.env["STRIPE_API_KEY"]} {
					if secret != "" && strings.Contains(err.Error(), strings.TrimSpace(secret)) {
						t.Fatalf("error %q echoes the key", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key.Secret != tt.wantSecret || key.Source != tt.wantSource || key.Live != tt.wantLive {
				t.Fatalf("got {%q %q live=%v}, want {%q %q live=%v}", key.Secret, key.Source, key.Live, tt.wantSecret, tt.wantSource, tt.wantLive)
			}
		})
	}
}

func TestResolveAPIBase(t *testing.T) {
	tests := []struct{ flag, env, want string }{
		{"http://127.0.0.1:12111/", "http://elsewhere", "http://127.0.0.1:12111"},
		{"", "http://localhost:4242", "http://localhost:4242"},
		{"", "", "https://api.stripe.com"},
	}
	for _, tt := range tests {
		if got := ResolveAPIBase(tt.flag, envOf(map[string]string{"STRIPE_API_BASE": tt.env})); got != tt.want {
			t.Errorf("ResolveAPIBase(%q, %q) = %q, want %q", tt.flag, tt.env, got, tt.want)
		}
	}
}

func TestKeyRedacted(t *testing.T) {
	tests := []struct{ secret, want string }{
		{"sk_test_51H8abcdefghijklmnop4f2a", "sk_test_…4f2a"},
		{"rk_live_51H8abcdefghijklmnopabcd", "rk_live_…abcd"},
		{"sk_test_short", "sk_test_…"}, // too short to show any of it
		{"", "(no key)"},
	}
	for _, tt := range tests {
		if got := (Key{Secret: tt.secret}).Redacted(); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}

// TestKeyNeverPrinted prints a key every way Go code commonly does and checks
// the secret never shows.
func TestKeyNeverPrinted(t *testing.T) {
	const secret = "sk_live_51SECRETSECRETSECRETxyz9"
	key, err := ParseKey(secret, "--api-key")
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Name string
		Key  Key
		Ptr  *Key
	}{"x", key, &key}
	client := NewClient(key, "http://127.0.0.1:1")
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("sync", "key", key, "client", client)
	jsonKey, _ := json.Marshal(holder)

	outputs := map[string]string{"slog": logged.String(), "json": string(jsonKey)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T %v"} {
		outputs[verb+" key"] = fmt.Sprintf(verb, key)
		outputs[verb+" holder"] = fmt.Sprintf(verb, holder)
		outputs[verb+" client"] = fmt.Sprintf(verb, client)
	}
	outputs["Sprint"] = fmt.Sprint(key, &key, client)
	outputs["String"] = key.String()
	for name, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, "SECRETSECRET") {
			t.Errorf("%s prints the secret: %s", name, out)
		}
	}
	if !strings.Contains(outputs["%v key"], "sk_live_…xyz9") {
		t.Errorf("%%v = %q, want the redacted key", outputs["%v key"])
	}
}
