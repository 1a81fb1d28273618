package adyenapi

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// NotificationRequest is the body Adyen POSTs to a webhook endpoint (Adyen/adyen-openapi
// json/Webhooks-v1.json): a batch of notification items.
type NotificationRequest struct {
	Live              string             `json:"live"`
	NotificationItems []NotificationItem `json:"notificationItems"`
}

// NotificationItem wraps one item, as Adyen nests it.
type NotificationItem struct {
	Item NotificationRequestItem `json:"NotificationRequestItem"`
}

// NotificationRequestItem is one event: for a refund, PspReference is the
// refund's (the pspReference the /refunds call answered) and
// OriginalReference the payment's.
type NotificationRequestItem struct {
	AdditionalData      map[string]string `json:"additionalData,omitempty"`
	Amount              Amount            `json:"amount"`
	EventCode           string            `json:"eventCode"`
	EventDate           string            `json:"eventDate"`
	MerchantAccountCode string            `json:"merchantAccountCode"`
	MerchantReference   string            `json:"merchantReference"`
	OriginalReference   string            `json:"originalReference,omitempty"`
	PspReference        string            `json:"pspReference"`
	Reason              string            `json:"reason,omitempty"`
	Success             string            `json:"success"`
}

// SigningString is what Adyen signs in a notification item: pspReference,
// originalReference, merchantAccountCode, merchantReference, amount value,
// amount currency, eventCode and success, joined by colons, empty fields kept
// (https://docs.adyen.com/development-resources/webhooks/secure-webhooks/verify-hmac-signatures;
// Adyen's Go library, src/hmacvalidator GetDataToSign).
func (it *NotificationRequestItem) SigningString() string {
	return strings.Join([]string{
		it.PspReference, it.OriginalReference, it.MerchantAccountCode, it.MerchantReference,
		strconv.FormatInt(it.Amount.Value, 10), it.Amount.Currency, it.EventCode, it.Success,
	}, ":")
}

// Sign is the item's HMAC signature under hexKey, the HMAC key Adyen shows as
// hexadecimal: base64 of HMAC-SHA256 over SigningString with the key's bytes.
func (it *NotificationRequestItem) Sign(hexKey string) (string, error) {
	key, err := hmacKey(hexKey)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(it.SigningString()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// ErrBadSignature is a notification item whose hmacSignature is missing or
// does not match: not from Adyen, altered, or signed with another key.
var ErrBadSignature = errors.New("HMAC signature does not match")

// Verify checks the item's additionalData.hmacSignature against hexKey in
// constant time.
func (it *NotificationRequestItem) Verify(hexKey string) error {
	key, err := hmacKey(hexKey)
	if err != nil {
		return err
	}
	got, err := base64.StdEncoding.DecodeString(it.AdditionalData["hmacSignature"])
	if err != nil || len(got) == 0 {
		return fmt.Errorf("%w: additionalData.hmacSignature is missing or not base64", ErrBadSignature)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(it.SigningString()))
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// hmacKey decodes the hexadecimal HMAC key; the error never shows it.
func hmacKey(hexKey string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(hexKey))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the Adyen HMAC key is not hexadecimal (copy it from Customer Area > Developers > Webhooks > the webhook's HMAC key)")
	}
	return key, nil
}

// RefundEvent is the outcome of a refund a verified notification reports.
type RefundEvent struct {
	RefundPsp  string // the refund's Psp Reference: the ledger's refund id
	PaymentPsp string // the payment's
	// Reference is the refund request's reference: doublecheck sends the
	// intent's key, so it finds an intent whose answer was lost.
	Reference string
	Succeeded bool
	// Reason is Adyen's reason when the refund failed, or the event code
	// for a refund that failed after it succeeded.
	Reason    string
	EventCode string
	Amount    int64 // doublecheck's minor units
	Currency  string
	Live      bool
	Line      int // where in the file
}

// Outcome is what the event records in the refund ledger: refunded;
// refund_failed (REFUND with success false) with Adyen's reason; or, for a
// refund that failed after Adyen first reported success (REFUND_FAILED,
// REFUNDED_REVERSED: the money came back to the merchant), refund_reversed
// with the event code and Adyen's reason.
func (e RefundEvent) Outcome() reconcile.RefundOutcome {
	switch {
	case e.Succeeded:
		return reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}
	case e.CameBack():
		return reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: strings.ToLower(e.EventCode), ErrorMessage: e.Reason}
	}
	return reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: strings.ToLower(e.EventCode), ErrorMessage: e.Reason}
}

// CameBack is whether the event reports a refund that failed after Adyen
// first reported success: the money is back with the merchant.
func (e RefundEvent) CameBack() bool {
	return e.EventCode == EventRefundFailed || e.EventCode == EventRefundedReversed
}

// Refund event codes (json/Webhooks-v1.json): REFUND carries success true or
// false; REFUND_FAILED and REFUNDED_REVERSED report a refund that failed
// after Adyen first reported success (the money came back to the merchant).
const (
	EventRefund           = "REFUND"
	EventRefundFailed     = "REFUND_FAILED"
	EventRefundedReversed = "REFUNDED_REVERSED"
)

// NotificationSummary is what a file of notifications held besides refunds.
type NotificationSummary struct {
	Items int // notification items read, all verified
	Other int // items about other events (AUTHORISATION, CAPTURE…), left alone
}

// ReadNotifications reads Adyen notification request bodies (one JSON object,
// a JSON array of them, or one per line), verifies the HMAC signature of
// every item with hexKey, and returns the refund events. One item that does
// not verify refuses the whole file, naming its line: an unverified item
// could confirm a refund that never happened.
func ReadNotifications(r io.Reader, name, hexKey string) ([]RefundEvent, NotificationSummary, error) {
	var sum NotificationSummary
	if _, err := hmacKey(hexKey); err != nil {
		return nil, sum, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, sum, fmt.Errorf("read %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	bodies, err := splitBodies(data, name)
	if err != nil {
		return nil, sum, err
	}
	if len(bodies) == 0 {
		return nil, sum, fmt.Errorf("%s is empty: expected Adyen notification JSON (the body Adyen posts to a webhook)", name)
	}
	var events []RefundEvent
	for _, b := range bodies {
		var req NotificationRequest
		if err := json.Unmarshal(b.raw, &req); err != nil {
			return nil, sum, fmt.Errorf("%s line %d: not an Adyen notification: %v", name, b.line, err)
		}
		if len(req.NotificationItems) == 0 {
			return nil, sum, fmt.Errorf("%s line %d: no notificationItems: not an Adyen notification request", name, b.line)
		}
		live, err := strconv.ParseBool(req.Live)
		if err != nil {
			return nil, sum, fmt.Errorf("%s line %d, field \"live\": %q is not true or false", name, b.line, req.Live)
		}
		for i := range req.NotificationItems {
			it := &req.NotificationItems[i].Item
			sum.Items++
			if err := it.Verify(hexKey); err != nil {
				return nil, sum, fmt.Errorf("%s line %d, item %d (%s %s): %w; nothing was recorded", name, b.line, i+1, it.EventCode, it.PspReference, err)
			}
			ev, ok, err := refundEvent(it, live)
			if err != nil {
				return nil, sum, fmt.Errorf("%s line %d, item %d: %w", name, b.line, i+1, err)
			}
			if !ok {
				sum.Other++
				continue
			}
			ev.Line = b.line
			events = append(events, ev)
		}
	}
	return events, sum, nil
}

func refundEvent(it *NotificationRequestItem, live bool) (RefundEvent, bool, error) {
	ev := RefundEvent{RefundPsp: it.PspReference, PaymentPsp: it.OriginalReference, Reference: it.MerchantReference, EventCode: it.EventCode,
		Currency: strings.ToLower(it.Amount.Currency), Live: live}
	switch it.EventCode {
	case EventRefund:
		switch it.Success {
		case "true":
			ev.Succeeded = true
		case "false":
			ev.Reason = it.Reason
		default:
			return ev, false, fmt.Errorf("REFUND %s: success is %q, not true or false", it.PspReference, it.Success)
		}
	case EventRefundFailed, EventRefundedReversed:
		ev.Reason = it.EventCode
		if it.Reason != "" {
			ev.Reason += ": " + it.Reason
		}
	default:
		return ev, false, nil
	}
	if it.PspReference == "" {
		return ev, false, fmt.Errorf("%s without a pspReference", it.EventCode)
	}
	amount, err := FromAdyenValue(it.Amount.Value, it.Amount.Currency)
	if err != nil {
		return ev, false, err
	}
	ev.Amount = amount
	return ev, true, nil
}

// body is one notification request body and the line it starts on.
type body struct {
	raw  []byte
	line int
}

// splitBodies reads a file as one JSON value, a JSON array of bodies, or
// JSON Lines.
func splitBodies(data []byte, name string) ([]body, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	lead := 1 + bytes.Count(data[:bytes.Index(data, trimmed[:1])], []byte("\n"))
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of notifications: %v", name, err)
		}
		out := make([]body, len(raws))
		for i, r := range raws {
			out[i] = body{raw: r, line: lead}
		}
		return out, nil
	}
	if json.Valid(trimmed) {
		return []body{{raw: trimmed, line: lead}}, nil
	}
	var out []body
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return nil, fmt.Errorf("%s line %d: not JSON; expected one notification request body per line", name, n)
		}
		out = append(out, body{raw: append([]byte(nil), line...), line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}
