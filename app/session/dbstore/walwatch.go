package dbstore

import (
	"encoding/binary"
	"os"
)

// walVersion identifies one state of a SQLite database in WAL mode: the
// header of its WAL index (the "-shm" file, format documented at
// https://sqlite.org/walformat.html). Every connection that commits a
// transaction, in any process, rewrites that header and increments its
// change counter, so an unchanged header means nobody committed anything.
type walVersion struct {
	change  uint32    // iChange: +1 each time a connection writes the header
	mxFrame uint32    // last valid frame in the WAL
	salt    [2]uint32 // changes when the WAL restarts after a checkpoint
	cksum   [2]uint32 // checksum of the header
}

// walWatch reads the WAL-index header of one database file with pread: a
// system call of well under a microsecond, no query and no lock, which is
// what lets the cache serve a session without a database round trip and
// still notice a write by any other process, Django included.
type walWatch struct {
	f *os.File
}

// openWALWatch opens the WAL index of the database at path. It fails when
// the database is not in WAL mode (no -shm file).
func openWALWatch(path string) (*walWatch, error) {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil, err
	}
	w := &walWatch{f: f}
	if _, ok := w.version(); !ok {
		f.Close()
		return nil, os.ErrInvalid
	}
	return w, nil
}

// version returns the current header, or false when it cannot be read
// consistently (a writer was rewriting it, or the file is being reset):
// callers then treat the cache as unknown and go to the database.
func (w *walWatch) version() (walVersion, bool) {
	var buf [96]byte
	for range 4 {
		if n, err := w.f.ReadAt(buf[:], 0); n != len(buf) || err != nil {
			return walVersion{}, false
		}
		// SQLite writes the second copy, then the first; a reader that
		// sees both equal saw a whole header.
		if [48]byte(buf[:48]) != [48]byte(buf[48:]) || buf[12] != 1 {
			continue
		}
		le := binary.NativeEndian
		return walVersion{
			change:  le.Uint32(buf[8:]),
			mxFrame: le.Uint32(buf[16:]),
			salt:    [2]uint32{le.Uint32(buf[32:]), le.Uint32(buf[36:])},
			cksum:   [2]uint32{le.Uint32(buf[40:]), le.Uint32(buf[44:])},
		}, true
	}
	return walVersion{}, false
}

func (w *walWatch) close() error { return w.f.Close() }
