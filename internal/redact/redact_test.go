package redact

import "testing"

func TestIn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets Secrets
		text    string
		want    string
	}{
		{"each secret", Secrets{"S3cr3t-value", "dG9rZW4="}, "a S3cr3t-value b dG9rZW4= c", "a ******** b ******** c"},
		{"every occurrence", Secrets{"S3cr3t"}, "S3cr3tS3cr3t", "****************"},
		{"the longer secret first", Secrets{"key1", "Bearer-key1-tail"}, "had Bearer-key1-tail", "had ********"},
		{"too short to mask", Secrets{"ab", ""}, "about ab", "about ab"},
		{"nothing to mask", nil, "plain", "plain"},
	} {
		if got := tc.secrets.In(tc.text); got != tc.want {
			t.Errorf("%s: In(%q) = %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}

func TestFields(t *testing.T) {
	a, b := "name S3cr3t", "S3cr3t issue"
	Secrets{"S3cr3t"}.Fields(&a, &b)
	if a != "name ********" || b != "******** issue" {
		t.Fatalf("Fields: %q, %q", a, b)
	}
}
