// Package redact keeps credentials out of text a payment provider's answer
// carries: a server, a proxy or a misbehaving mock can echo the key, the
// secret or the token it was sent, and that text goes on to errors, stderr
// and the refund ledger.
package redact

import (
	"sort"
	"strings"
)

// Mask is what a credential is replaced with.
const Mask = "********"

// minLen: shorter values are not masked; replacing every "ab" would garble
// the text and hide nothing (no provider issues credentials that short).
const minLen = 4

// Secrets are the credentials one client sends.
type Secrets []string

// In returns text with every secret replaced by Mask. Longer secrets go
// first, so a secret inside another (a token that contains the key) cannot
// leave the rest of the longer one behind.
func (s Secrets) In(text string) string {
	sorted := append(Secrets(nil), s...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, v := range sorted {
		if len(v) >= minLen {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// Fields masks each of the strings in place: every text field copied from
// an answer.
func (s Secrets) Fields(fields ...*string) {
	for _, f := range fields {
		*f = s.In(*f)
	}
}
