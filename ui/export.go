package ui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/atomicfile"
	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// exportPath names a report file after the account and the time, so successive
// exports never overwrite each other.
func exportPath(dir, account string, now time.Time) string {
	name := strings.Join(strings.FieldsFunc(orText(account, "local"), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}), "-")
	return filepath.Join(dir, fmt.Sprintf("doublecheck-%s-%s.csv", name, now.UTC().Format("20060102-150405")))
}

// writeReport writes r as CSV to path through a temporary file in the same
// directory, so a failed export never leaves a half-written report. It returns
// the absolute path.
func writeReport(path, base string, r reconcile.Report) (string, error) {
	abs, err := exportTarget(path, base)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("export: creating %s: %w", dir, err)
	}
	// Private (0600), as atomicfile makes it: the report is full of customer emails.
	if err := atomicfile.Write(abs, func(w io.Writer) error { return reconcile.WriteCSV(w, r) }); err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	return abs, nil
}

// exportTarget is where a typed path writes: a leading ~ is the home
// directory, and a relative path is relative to base, the directory the
// prompt proposed — never the working directory, where a typed "~" would
// otherwise become a directory of that name.
func exportTarget(path, base string) (string, error) {
	if path == "~" || strings.HasPrefix(path, "~/") || strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("export: %s: no home directory to expand ~ with: %w", path, err)
		}
		path = filepath.Join(home, path[1:])
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("export: resolving %s: %w", path, err)
	}
	return abs, nil
}
