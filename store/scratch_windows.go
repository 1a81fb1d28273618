package store

import "os"

// scratchOpenFlag makes Windows delete the import's scratch file when its
// last handle closes, however the process ends (FILE_FLAG_DELETE_ON_CLOSE,
// passed through os.OpenFile's high bits).
const scratchOpenFlag = 0x04000000

func openScratch(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, scratchPattern)
	if err != nil {
		return nil, err
	}
	name := f.Name()
	f.Close()
	g, err := os.OpenFile(name, os.O_RDWR|scratchOpenFlag, 0)
	if err != nil {
		os.Remove(name)
		return nil, err
	}
	return g, nil
}
