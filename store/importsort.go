package store

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// importRunBytes bounds the records an import holds in memory, half of it
// being filled while the other half is sorted and written out as a run, and
// the read buffers of the merge; a variable so that tests can make runs of a
// few records.
var importRunBytes = 64 << 20

// recordSorter puts an import's records in the order of their ids, and of
// the file for one id, in memory independent of the file's size: records are
// held until they fill half of importRunBytes, then sorted and appended to a
// scratch file as one run by another goroutine while the other half fills
// (sorting and writing in line stalled the file's decoding, leaving a core
// idle for a seventh of the reading); once the file is read, the runs and
// the records still held are merged. Each record starts with its id and its
// staging number (see appendRecord).
type recordSorter struct {
	dir  string      // where the scratch file is made
	held heldRecords // being filled
	// spare is the other half once its run is written; writing, when not
	// nil, gives it back with the run's error while a run is being written.
	spare   heldRecords
	writing chan writtenRun
	file    *os.File // the runs, one after another; nil until the first
	runs    []run
	size    int64 // bytes of the runs, written or being written
}

// heldRecords are records held in memory, each after its length in buf.
type heldRecords struct {
	buf   []byte
	index []heldRecord
}

type heldRecord struct {
	prefix   uint64 // the id's first 8 bytes, big-endian: most comparisons end there
	seq      int64
	off, end int // the record with its length, in buf
	id       []byte
}

// writtenRun is the end of a run's writing: the records it held, for reuse.
type writtenRun struct {
	held heldRecords
	err  error
}

// run is one sorted run in the scratch file: records, each after its length.
type run struct{ off, size int64 }

// scratchPattern names an import's scratch file: in the store's directory,
// deleted as soon as it is made where the system allows it (it lives on
// while open), so a killed import leaves nothing behind.
const scratchPattern = ".doublecheck-import-*.tmp"

func (s *recordSorter) add(rec []byte) error {
	id, seq, err := recordKey(rec)
	if err != nil {
		return err
	}
	h := &s.held
	if need := len(h.buf) + len(rec) + binary.MaxVarintLen64; need > cap(h.buf) {
		switch limit := importRunBytes / 2; {
		case cap(h.buf) < limit:
			// Grown to limit at most (append would go on to twice that),
			// from a size that suits a small file.
			size := min(max(2*cap(h.buf), need, 1<<20), max(limit, need))
			h.buf = append(make([]byte, 0, size), h.buf...)
		case len(h.buf) > 0:
			if err := s.spill(); err != nil {
				return err
			}
		}
	}
	off := len(h.buf)
	h.buf = binary.AppendUvarint(h.buf, uint64(len(rec)))
	h.buf = append(h.buf, rec...)
	h.index = append(h.index, heldRecord{prefix: idPrefix(id), seq: seq, off: off, end: len(h.buf)})
	return nil
}

// recordKey reads the id and staging number at the start of rec.
func recordKey(rec []byte) (id []byte, seq int64, err error) {
	n, w := binary.Uvarint(rec)
	if w <= 0 || uint64(len(rec)-w) < n {
		return nil, 0, errBadRecord
	}
	id = rec[w : w+int(n)]
	seq, w2 := binary.Varint(rec[w+int(n):])
	if w2 <= 0 {
		return nil, 0, errBadRecord
	}
	return id, seq, nil
}

var errBadRecord = errors.New("a staged import record is damaged")

func idPrefix(id []byte) uint64 {
	var b [8]byte
	copy(b[:], id)
	return binary.BigEndian.Uint64(b[:])
}

func compareKeys(aID []byte, aSeq int64, bID []byte, bSeq int64) int {
	if c := bytes.Compare(aID, bID); c != 0 {
		return c
	}
	switch {
	case aSeq < bSeq:
		return -1
	case aSeq > bSeq:
		return 1
	}
	return 0
}

// sort sorts the records held, and fills in their ids.
func (h *heldRecords) sort() error {
	for i := range h.index {
		_, w := binary.Uvarint(h.buf[h.index[i].off:])
		id, _, err := recordKey(h.buf[h.index[i].off+w : h.index[i].end])
		if err != nil {
			return err
		}
		h.index[i].id = id
	}
	slices.SortFunc(h.index, func(a, b heldRecord) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		return compareKeys(a.id, a.seq, b.id, b.seq)
	})
	return nil
}

// writeRun sorts the records held and writes them to f at off, as a run of
// len(h.buf) bytes: the records with their lengths tile buf.
func (h *heldRecords) writeRun(f *os.File, off int64) error {
	if err := h.sort(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, off), 1<<20)
	for _, r := range h.index {
		if _, err := w.Write(h.buf[r.off:r.end]); err != nil {
			return fmt.Errorf("write the import's scratch file: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write the import's scratch file: %w", err)
	}
	return nil
}

// spill hands the records held to another goroutine, which writes them as
// one run, and goes on with the spare half once the run before is written.
func (s *recordSorter) spill() error {
	if len(s.held.index) == 0 {
		return nil
	}
	if err := s.wait(); err != nil {
		return err
	}
	if s.file == nil {
		f, err := openScratch(s.dir)
		if err != nil {
			return fmt.Errorf("make the import's scratch file: %w", err)
		}
		s.file = f
	}
	full, file, off := s.held, s.file, s.size
	s.runs = append(s.runs, run{off: off, size: int64(len(full.buf))})
	s.size += int64(len(full.buf))
	s.held = heldRecords{buf: s.spare.buf[:0], index: s.spare.index[:0]}
	s.spare = heldRecords{}
	done := make(chan writtenRun, 1)
	s.writing = done
	go func() {
		err := full.writeRun(file, off)
		done <- writtenRun{held: full, err: err}
	}()
	return nil
}

// wait waits for the run being written, if any, and keeps its records'
// memory as the spare half.
func (s *recordSorter) wait() error {
	if s.writing == nil {
		return nil
	}
	w := <-s.writing
	s.writing = nil
	s.spare = w.held
	return w.err
}

// close deletes the scratch file, once no run is being written to it.
func (s *recordSorter) close() {
	s.wait()
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}

// merged hands every record to fn in the order of ids and staging numbers;
// a record is valid only during the call.
func (s *recordSorter) merged(fn func(rec []byte) error) error {
	if len(s.runs) > 0 {
		// The records held become a run too, so that the merge's read
		// buffers take the memory they held instead of adding to it.
		if err := s.spill(); err != nil {
			return err
		}
		if err := s.wait(); err != nil {
			return err
		}
		s.held, s.spare = heldRecords{}, heldRecords{}
	}
	if err := s.held.sort(); err != nil {
		return err
	}
	var sources recordHeap
	held := &heldSource{s: s}
	if err := sources.push(held); err != nil {
		return err
	}
	buffer := max(16<<10, min(1<<20, importRunBytes/max(1, len(s.runs))))
	for _, r := range s.runs {
		src := &runSource{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.size), buffer)}
		if err := sources.push(src); err != nil {
			return err
		}
	}
	for sources.Len() > 0 {
		top := sources.items[0]
		if err := fn(top.record()); err != nil {
			return err
		}
		ok, err := top.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&sources, 0)
		} else {
			heap.Pop(&sources)
		}
	}
	return nil
}

// recordSource is one sorted sequence of records being merged.
type recordSource interface {
	next() (bool, error) // moves to the next record; false at the end
	record() []byte
	key() ([]byte, int64)
}

type heldSource struct {
	s   *recordSorter
	i   int
	rec []byte
}

func (h *heldSource) next() (bool, error) {
	held := &h.s.held
	if h.i >= len(held.index) {
		return false, nil
	}
	r := held.index[h.i]
	h.i++
	_, w := binary.Uvarint(held.buf[r.off:])
	h.rec = held.buf[r.off+w : r.end]
	return true, nil
}

func (h *heldSource) record() []byte { return h.rec }

func (h *heldSource) key() ([]byte, int64) {
	r := h.s.held.index[h.i-1]
	return r.id, r.seq
}

type runSource struct {
	r   *bufio.Reader
	rec []byte
	id  []byte
	seq int64
}

func (r *runSource) next() (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the import's scratch file: %w", err)
	}
	r.rec = slices.Grow(r.rec[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.rec); err != nil {
		return false, fmt.Errorf("read the import's scratch file: %w", err)
	}
	r.id, r.seq, err = recordKey(r.rec)
	return err == nil, err
}

func (r *runSource) record() []byte { return r.rec }

func (r *runSource) key() ([]byte, int64) { return r.id, r.seq }

// recordHeap orders sources by their current records.
type recordHeap struct{ items []recordSource }

func (h *recordHeap) push(src recordSource) error {
	ok, err := src.next()
	if ok {
		heap.Push(h, src)
	}
	return err
}

func (h *recordHeap) Len() int { return len(h.items) }
func (h *recordHeap) Less(i, j int) bool {
	aID, aSeq := h.items[i].key()
	bID, bSeq := h.items[j].key()
	return compareKeys(aID, aSeq, bID, bSeq) < 0
}
func (h *recordHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *recordHeap) Push(x any)    { h.items = append(h.items, x.(recordSource)) }
func (h *recordHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
