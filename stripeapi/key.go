// Package stripeapi is doublecheck's only door to Stripe: the API key, the
// client set-up, the resumable sync, refunds and the conversion of Stripe's
// charge objects to reconcile types. It is the only package that imports
// stripe-go.
package stripeapi

import (
	"github.com/stripe/stripe-go/v76"

	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoKey means no API key was given by flag, environment or stripe CLI config.
var ErrNoKey = errors.New("no Stripe API key: pass --api-key, set STRIPE_API_KEY, or run `stripe login`")

// Key is a Stripe secret or restricted key and where it came from. Every way of
// printing a Key shows its redacted form ("sk_test_…4f2a"), never Secret.
type Key struct {
	Secret string // never print, log or store it
	Source string // "--api-key", "STRIPE_API_KEY" or the stripe CLI config path
	Live   bool   // a live-mode key: money is real
}

// Fingerprint identifies the whole key without revealing it: the hex SHA-256
// of the secret. Unlike the redacted form, which shows only the prefix and the
// last four characters, two keys never share it; and the key cannot be read
// back from it.
func (k Key) Fingerprint() string {
	sum := sha256.Sum256([]byte(k.Secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// keyPrefixes are the key kinds doublecheck accepts, and their mode.
var keyPrefixes = []struct {
	prefix string
	live   bool
}{
	{"sk_test_", false}, {"rk_test_", false}, {"sk_live_", true}, {"rk_live_", true},
}

// ParseKey checks the shape of a key and reads its mode from the prefix. The
// error never contains the key: a key pasted into the wrong flag must not end up
// in a terminal scroll-back or a CI log.
func ParseKey(secret, source string) (Key, error) {
	secret = strings.TrimSpace(secret)
	for _, p := range keyPrefixes {
		rest, ok := strings.CutPrefix(secret, p.prefix)
		if ok && rest != "" && !strings.ContainsAny(rest, " \t\r\n") {
			return Key{Secret: secret, Source: source, Live: p.live}, nil
		}
	}
	if strings.HasPrefix(secret, "pk_") {
		return Key{}, fmt.Errorf("the key from %s is a publishable key; doublecheck needs a secret key (sk_… or rk_…)", source)
	}
	return Key{}, fmt.Errorf("the key from %s does not look like a Stripe secret key (sk_… or rk_…)", source)
}

// ResolveKey finds the API key: --api-key, else STRIPE_API_KEY, else the test-mode
// key of the stripe CLI's default profile ($XDG_CONFIG_HOME/stripe/config.toml,
// else ~/.config/stripe/config.toml). It returns ErrNoKey when there is none.
func ResolveKey(flagValue string, getenv func(string) string, home string) (Key, error) {
	if strings.TrimSpace(flagValue) != "" {
		return ParseKey(flagValue, "--api-key")
	}
	if v := getenv("STRIPE_API_KEY"); strings.TrimSpace(v) != "" {
		return ParseKey(v, "STRIPE_API_KEY")
	}
	path := stripeCLIConfigPath(getenv, home)
	if path == "" {
		return Key{}, ErrNoKey
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Key{}, ErrNoKey
	}
	if err != nil {
		return Key{}, fmt.Errorf("read the stripe CLI config: %w", err)
	}
	defer f.Close()
	secret, err := stripeCLITestKey(f)
	if err != nil {
		return Key{}, fmt.Errorf("read the stripe CLI config %s: %w", path, err)
	}
	if secret == "" {
		return Key{}, ErrNoKey
	}
	return ParseKey(secret, path)
}

func stripeCLIConfigPath(getenv func(string) string, home string) string {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "stripe", "config.toml")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "stripe", "config.toml")
}

// stripeCLITestKey reads test_mode_api_key from the [default] table of the stripe
// CLI's config. The CLI writes this file itself in a fixed, flat shape (tables of
// quoted strings), so these few lines are enough and spare a TOML dependency.
func stripeCLITestKey(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	table := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			table = strings.Trim(line, "[] \t")
		case table == "default":
			name, value, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(name) == "test_mode_api_key" {
				return tomlString(value), nil
			}
		}
	}
	return "", sc.Err()
}

// tomlString reads a basic or literal TOML string value, ignoring what follows
// its closing quote (a comment).
func tomlString(value string) string {
	value = strings.TrimSpace(value)
	if value == "" || (value[0] != '"' && value[0] != '\'') {
		return value
	}
	if end := strings.IndexByte(value[1:], value[0]); end >= 0 {
		return value[1 : end+1]
	}
	return value[1:]
}

// ResolveAPIBase is --api-base, else STRIPE_API_BASE, else Stripe itself.
func ResolveAPIBase(flagValue string, getenv func(string) string) string {
	for _, base := range []string{flagValue, getenv("STRIPE_API_BASE")} {
		if base != "" {
			return strings.TrimRight(base, "/")
		}
	}
	return stripe.APIURL
}

// Redacted is the key's prefix and last four characters: enough to tell keys
// apart, useless to an attacker.
func (k Key) Redacted() string {
	if k.Secret == "" {
		return "(no key)"
	}
	prefix := ""
	for _, p := range keyPrefixes {
		if strings.HasPrefix(k.Secret, p.prefix) {
			prefix = p.prefix
		}
	}
	rest := k.Secret[len(prefix):]
	if len(rest) < 12 {
		return prefix + "…" // too short to show any of it
	}
	return prefix + "…" + rest[len(rest)-4:]
}

// String is the redacted key.
func (k Key) String() string { return k.Redacted() }

// GoString keeps %#v from printing the secret.
func (k Key) GoString() string { return fmt.Sprintf("stripeapi.Key{%s}", k.Redacted()) }

// Format makes every fmt verb (%v, %+v, %s, %q, %x…) print the redacted key.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, k.GoString())
		return
	}
	io.WriteString(f, k.Redacted())
}

// MarshalText keeps JSON, slog and other encoders from writing the secret.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.Redacted()), nil }
