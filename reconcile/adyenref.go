package reconcile

import "strings"

// IsPspReference is whether id has the form of an Adyen Psp Reference, which
// is Adyen's payment (charge) id: "Adyen's 16-character unique reference"
// (the column description of Adyen's reports), letters and digits.
func IsPspReference(id string) bool {
	return len(id) == 16 && !strings.ContainsFunc(id, func(r rune) bool {
		return !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z')
	})
}
