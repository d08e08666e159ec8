package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// On disk a batch is one file named
//
//	<seq:016x>-<created unix ns>-<points>-<id>.batch
//
// The fixed-width hex sequence makes lexical order the queue order even when
// the wall clock steps back; the creation time and point count in the name
// let Open enforce the age bound and count drops without reading any file.
// The content is an 8-byte header (magic, CRC-32C of the body) and the line
// protocol body, so a torn or bit-rotted file is detected before it is sent.
const (
	batchExt = ".batch"
	tempExt  = ".tmp"
	badExt   = ".bad"
	magic    = "PSB1"
	hdrLen   = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped when a batch file fails its header or checksum.
var ErrCorrupt = errors.New("spool: corrupt batch file")

// entry is the in-memory index record of one batch file.
type entry struct {
	seq     uint64
	created time.Time
	points  int
	id      string
	size    int64
}

func (e entry) name() string {
	ns := e.created.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return fmt.Sprintf("%016x-%d-%d-%s%s", e.seq, ns, e.points, e.id, batchExt)
}

// parseName reverses entry.name; size is filled by the caller.
func parseName(name string) (entry, error) {
	base, ok := strings.CutSuffix(name, batchExt)
	if !ok {
		return entry{}, fmt.Errorf("spool: %s: not a batch file", name)
	}
	parts := strings.SplitN(base, "-", 4)
	if len(parts) != 4 || len(parts[0]) != 16 || parts[3] == "" {
		return entry{}, fmt.Errorf("spool: %s: malformed batch file name", name)
	}
	seq, err1 := strconv.ParseUint(parts[0], 16, 64)
	ns, err2 := strconv.ParseInt(parts[1], 10, 64)
	pts, err3 := strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || pts < 0 {
		return entry{}, fmt.Errorf("spool: %s: malformed batch file name: %v", name, err)
	}
	return entry{seq: seq, created: time.Unix(0, ns), points: pts, id: parts[3]}, nil
}

// frame fills the header reserved at the start of buf for the body after it.
func frame(buf []byte) {
	copy(buf, magic)
	binary.BigEndian.PutUint32(buf[4:hdrLen], crc32.Checksum(buf[hdrLen:], castagnoli))
}

// readBody reads a batch file and returns its verified body.
func readBody(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < hdrLen || string(data[:4]) != magic {
		return nil, fmt.Errorf("%w: %s: bad header", ErrCorrupt, filepath.Base(path))
	}
	if crc32.Checksum(data[hdrLen:], castagnoli) != binary.BigEndian.Uint32(data[4:hdrLen]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, filepath.Base(path))
	}
	return data[hdrLen:], nil
}

// writeTemp writes data to a new temporary file in dir and fsyncs it, so
// the later rename publishes only complete content.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes renames and creations in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
