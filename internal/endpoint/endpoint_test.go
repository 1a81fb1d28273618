package endpoint

import (
	"strings"
	"testing"
)

var example = Provider{Name: "Example", Setting: "EXAMPLE_ENV", TestWord: "sandbox", Platform: func(host string) Platform {
	switch {
	case Under(host, "sandbox.example.com"):
		return Test
	case Under(host, "example.com"):
		return Live
	}
	return Other
}}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		base string
		live bool
		want string // "" for accepted
	}{
		{"https://api.example.com", true, ""},
		{"https://api.sandbox.example.com", false, ""},
		{"https://API.Example.com./v1", false, "the Example environment is sandbox (EXAMPLE_ENV) but api.example.com is Example's live host: say live to use it, or use a sandbox host"},
		{"https://api.sandbox.example.com", true, "the Example environment is live (EXAMPLE_ENV) but api.sandbox.example.com is Example's sandbox host: say sandbox to use it, or use a live host"},
		{"http://proxy.internal:8080", true, "refusing to send live Example credentials over plain http to proxy.internal:8080; use https"},
		{"http://proxy.internal:8080", false, ""},
		{"https://proxy.internal", true, ""},
		{"http://127.0.0.1:4000", true, ""},
		{"http://[::1]:4000", true, ""},
		{"http://localhost:4000", true, ""},
		{"ftp://api.example.com", true, "is not an http(s) URL"},
		{"api.example.com", false, "is not an http(s) URL"},
		{"https://example.com.evil.test", false, ""},
	} {
		err := example.Check(tc.base, tc.live)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%q, live %v): %v", tc.base, tc.live, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Check(%q, live %v) = %v, want %q", tc.base, tc.live, err, tc.want)
		}
	}
}
