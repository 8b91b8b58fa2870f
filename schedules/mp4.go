package schedules

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// X accepts videos from 0.5 to 140 seconds long.
const (
	xMinVideo = 500 * time.Millisecond
	xMaxVideo = 140 * time.Second
)

// maxBoxes bounds the boxes mvhdDuration looks at, at the top level and
// inside moov each: real files have a handful (ftyp, free, mdat, moov; mvhd
// comes first in moov), and a hostile file of millions of 8-byte boxes must
// not cost millions of reads.
const maxBoxes = 256

// mvhdDuration reads the length of an MP4 or QuickTime movie from its
// moov/mvhd box (ISO/IEC 14496-12 §8.2.2): duration divided by timescale.
// It reads only box headers and the first bytes of mvhd, never media data,
// so a 512 MB file costs a few small reads wherever its moov box is (at the
// start after "fast start" optimisation, at the end otherwise). size is the
// file's length.
func mvhdDuration(r io.ReaderAt, size int64) (time.Duration, error) {
	if size < 8 {
		return 0, fmt.Errorf("%d bytes, too short for an MP4 or QuickTime file", size)
	}
	moov, moovEnd, err := findBox(r, 0, size, "moov")
	if err != nil {
		return 0, err
	}
	mvhd, mvhdEnd, err := findBox(r, moov, moovEnd, "mvhd")
	if errors.Is(err, errNoBox) {
		return 0, errors.New("the moov box has no mvhd box")
	}
	if err != nil {
		return 0, err
	}
	// version(1) flags(3), then v0: creation(4) modification(4)
	// timescale(4) duration(4); v1: creation(8) modification(8)
	// timescale(4) duration(8).
	var b [32]byte
	n := min(mvhdEnd-mvhd, int64(len(b)))
	if err := readAt(r, b[:n], mvhd); err != nil {
		return 0, fmt.Errorf("reading mvhd: %w", err)
	}
	var scale uint32
	var dur uint64
	switch b[0] {
	case 0:
		if n < 20 {
			return 0, errors.New("the mvhd box is truncated")
		}
		scale, dur = binary.BigEndian.Uint32(b[12:]), uint64(binary.BigEndian.Uint32(b[16:]))
		if dur == math.MaxUint32 {
			dur = math.MaxUint64 // "unknown" in either version
		}
	case 1:
		if n < 32 {
			return 0, errors.New("the mvhd box is truncated")
		}
		scale, dur = binary.BigEndian.Uint32(b[20:]), binary.BigEndian.Uint64(b[24:])
	default:
		return 0, fmt.Errorf("unknown mvhd version %d", b[0])
	}
	switch {
	case scale == 0:
		return 0, errors.New("the mvhd timescale is 0")
	case dur == math.MaxUint64:
		return 0, errors.New("the mvhd duration is marked unknown")
	}
	secs := float64(dur) / float64(scale)
	if secs > 1e6 { // far past any limit; keeps the conversion in range
		secs = 1e6
	}
	return time.Duration(math.Round(secs * 1e9)), nil
}

// errNoBox is findBox's "not found", turned into a message by its caller.
var errNoBox = errors.New("no such box")

// findBox walks the boxes in [off, end) and returns the content range of
// the first of type typ. A box's size field counts its header; size 1 means
// a 64-bit size follows the type, size 0 means "to the end".
func findBox(r io.ReaderAt, off, end int64, typ string) (int64, int64, error) {
	var h [16]byte
	for i := 0; off < end; i++ {
		if i == maxBoxes {
			return 0, 0, fmt.Errorf("no %s box in the first %d boxes", typ, maxBoxes)
		}
		if end-off < 8 {
			return 0, 0, fmt.Errorf("%d stray bytes at offset %d", end-off, off)
		}
		if err := readAt(r, h[:8], off); err != nil {
			return 0, 0, fmt.Errorf("reading the box at offset %d: %w", off, err)
		}
		size, hdr := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch size {
		case 0:
			size = end - off
		case 1:
			if end-off < 16 {
				return 0, 0, fmt.Errorf("the box at offset %d is truncated", off)
			}
			if err := readAt(r, h[8:16], off+8); err != nil {
				return 0, 0, fmt.Errorf("reading the box at offset %d: %w", off, err)
			}
			large := binary.BigEndian.Uint64(h[8:16])
			if large > math.MaxInt64 {
				return 0, 0, fmt.Errorf("the box at offset %d is larger than the file", off)
			}
			size, hdr = int64(large), 16
		}
		if size < hdr || size > end-off {
			return 0, 0, fmt.Errorf("the box at offset %d has a bad size (%d bytes; %d available)", off, size, end-off)
		}
		if string(h[4:8]) == typ {
			return off + hdr, off + size, nil
		}
		off += size
	}
	if typ == "moov" {
		return 0, 0, errors.New("no moov box (is it an MP4 or QuickTime file?)")
	}
	return 0, 0, errNoBox
}

// readAt fills b from off. io.ReaderAt may report io.EOF with a full
// buffer at the end of the input; only a short read is an error.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// formatSeconds prints a video length to the millisecond, without trailing
// zeros ("140.02 s", "0.4 s"), or exactly when rounding would make a
// length just outside X's range read as its bound ("140.0004 s").
func formatSeconds(d time.Duration) string {
	r := d.Round(time.Millisecond)
	if r != d && (r == xMinVideo || r == xMaxVideo) {
		r = d
	}
	return strconv.FormatFloat(float64(r)/1e9, 'f', -1, 64) + " s"
}
