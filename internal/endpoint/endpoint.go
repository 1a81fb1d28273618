// Package endpoint checks the API base URL a provider client is given
// before any credential is sent to it: the same rules for every provider.
package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Platform is what a provider's own host serves.
type Platform int

const (
	Other Platform = iota // not the provider's host: doublecheck's sandbox, a proxy
	Live
	Test
)

// Provider describes one provider's hosts and how its operator names the
// environment, for the refusals' wording.
type Provider struct {
	Name     string // "PayPal"
	Setting  string // where the environment is said: "--paypal-env or PAYPAL_ENV"
	TestWord string // the provider's word for its test platform: "sandbox", "test"
	// Platform says which platform host (lower case, no port) serves.
	Platform func(host string) Platform
}

// Check refuses a base URL that is not an http(s) URL, live credentials over
// plain http to anything but this machine (tests, a local proxy), and the
// provider's own host of the other platform than the environment said: a
// test label on a live host would move live money behind test wording (and
// without the typed confirmation live refunds need). Other hosts are taken
// with the environment as said.
func (p Provider) Check(base string, live bool) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the %s base URL %q is not an http(s) URL", p.Name, base)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if live && u.Scheme != "https" && !Loopback(host) {
		return fmt.Errorf("refusing to send live %s credentials over plain http to %s; use https", p.Name, u.Host)
	}
	said, word := p.TestWord, "live"
	switch hostIs := p.Platform(host); {
	case hostIs == Live && !live:
	case hostIs == Test && live:
		said, word = "live", p.TestWord
	default:
		return nil
	}
	return fmt.Errorf("the %s environment is %s (%s) but %s is %s's %s host: say %s to use it, or use a %s host",
		p.Name, said, p.Setting, host, p.Name, word, word, said)
}

// Loopback is whether host is this machine.
func Loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Under is whether host is domain or one of its subdomains.
func Under(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}
