//go:build !windows

package store

import "os"

func openScratch(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, scratchPattern)
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // it lives on while open
	return f, nil
}
