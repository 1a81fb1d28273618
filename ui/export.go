package ui

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"doublecheck/reconcile"
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
func writeReport(path string, r reconcile.Report) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("export: resolving %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("export: creating %s: %w", dir, err)
	}
	// CreateTemp makes the file private (0600), which suits a report full of
	// customer emails.
	tmp, err := os.CreateTemp(dir, ".doublecheck-export-*.csv")
	if err != nil {
		return "", fmt.Errorf("export: writing to %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w := bufio.NewWriter(tmp)
	if err := reconcile.WriteCSV(w, r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("export: writing the CSV report: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("export: writing %s: %w", abs, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("export: writing %s: %w", abs, err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return "", fmt.Errorf("export: saving %s: %w", abs, err)
	}
	return abs, nil
}
