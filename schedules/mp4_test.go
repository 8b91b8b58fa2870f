package schedules

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// box builds an ISO base media file format box of type typ around content.
func box(typ string, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// largeBox builds a box with a 64-bit size (size field 1).
func largeBox(typ string, content []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = append(b, typ...)
	b = binary.BigEndian.AppendUint64(b, uint64(16+len(content)))
	return append(b, content...)
}

// mvhd0 and mvhd1 build a movie header box as an encoder writes it: version
// and flags, times, timescale and duration, then rate, volume, matrix and
// the next track id (ISO/IEC 14496-12 §8.2.2).
func mvhd0(scale, dur uint32) []byte {
	b := []byte{0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, 3_800_000_000) // creation
	b = binary.BigEndian.AppendUint32(b, 3_800_000_000) // modification
	b = binary.BigEndian.AppendUint32(b, scale)
	b = binary.BigEndian.AppendUint32(b, dur)
	return box("mvhd", b, mvhdTail())
}

func mvhd1(scale uint32, dur uint64) []byte {
	b := []byte{1, 0, 0, 0}
	b = binary.BigEndian.AppendUint64(b, 3_800_000_000)
	b = binary.BigEndian.AppendUint64(b, 3_800_000_000)
	b = binary.BigEndian.AppendUint32(b, scale)
	b = binary.BigEndian.AppendUint64(b, dur)
	return box("mvhd", b, mvhdTail())
}

func mvhdTail() []byte {
	b := make([]byte, 80)
	binary.BigEndian.PutUint32(b[0:], 0x00010000) // rate 1.0
	binary.BigEndian.PutUint16(b[4:], 0x0100)     // volume 1.0
	binary.BigEndian.PutUint32(b[16:], 0x00010000)
	binary.BigEndian.PutUint32(b[32:], 0x00010000)
	binary.BigEndian.PutUint32(b[48:], 0x40000000)
	binary.BigEndian.PutUint32(b[76:], 2) // next track id
	return b
}

var ftyp = box("ftyp", []byte("isom"), []byte{0, 0, 2, 0}, []byte("isomiso2avc1mp41"))

// videoFixture is a tiny MP4 lasting d: ftyp, moov (mvhd and an empty
// trak), then an mdat box that runs to the end of the file (size 0), so the
// file may be grown with Truncate and stay well-formed.
func videoFixture(d time.Duration) []byte {
	const scale = 1000
	moov := box("moov", mvhd0(scale, uint32(d/time.Millisecond)), box("trak", box("tkhd", make([]byte, 84))))
	mdat := append([]byte{0, 0, 0, 0}, "mdat"...)
	return bytes.Join([][]byte{ftyp, moov, mdat, make([]byte, 16)}, nil)
}

func TestMVHDDuration(t *testing.T) {
	mdat := box("mdat", make([]byte, 100))
	tests := []struct {
		name string
		file []byte
		want time.Duration
		err  string // a substring of the error, or "" for none
	}{
		{"version 0", bytes.Join([][]byte{ftyp, box("moov", mvhd0(600, 6000)), mdat}, nil), 10 * time.Second, ""},
		{"version 1", bytes.Join([][]byte{ftyp, box("moov", mvhd1(90000, 90000*140)), mdat}, nil), 140 * time.Second, ""},
		{"fractional", bytes.Join([][]byte{box("moov", mvhd0(1000, 500))}, nil), 500 * time.Millisecond, ""},
		{"moov after mdat", bytes.Join([][]byte{ftyp, mdat, box("moov", mvhd0(1000, 2500))}, nil), 2500 * time.Millisecond, ""},
		{"mdat with a 64-bit size", bytes.Join([][]byte{ftyp, largeBox("mdat", make([]byte, 40)), box("moov", mvhd0(10, 3))}, nil), 300 * time.Millisecond, ""},
		{"mvhd after other boxes in moov", box("moov", box("udta", make([]byte, 12)), box("trak"), mvhd1(1, 42)), 42 * time.Second, ""},
		{"last box to the end (size 0)", append(box("moov", mvhd0(1, 7)), 0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3), 7 * time.Second, ""},
		{"moov to the end (size 0)", append([]byte{0, 0, 0, 0, 'm', 'o', 'o', 'v'}, mvhd0(2, 7)...), 3500 * time.Millisecond, ""},

		{"empty", nil, 0, "0 bytes, too short"},
		{"not a video", []byte("png"), 0, "3 bytes, too short"},
		{"text", []byte("hello, this is not a video at all\n"), 0, "bad size"},
		{"no moov", bytes.Join([][]byte{ftyp, mdat}, nil), 0, "no moov box"},
		{"moov without mvhd", bytes.Join([][]byte{ftyp, box("moov", box("trak"))}, nil), 0, "no mvhd box"},
		{"truncated mvhd v0", box("moov", box("mvhd", make([]byte, 12))), 0, "truncated"},
		{"truncated mvhd v1", box("moov", box("mvhd", []byte{1}, make([]byte, 25))), 0, "truncated"},
		{"unknown version", box("moov", box("mvhd", []byte{2}, make([]byte, 40))), 0, "unknown mvhd version 2"},
		{"zero timescale", box("moov", mvhd0(0, 10)), 0, "timescale is 0"},
		{"unknown duration v0", box("moov", mvhd0(1000, math.MaxUint32)), 0, "marked unknown"},
		{"unknown duration v1", box("moov", mvhd1(1000, math.MaxUint64)), 0, "marked unknown"},
		{"box past the end", append(ftyp, 0, 0, 1, 0, 'm', 'o', 'o', 'v'), 0, "bad size"},
		{"box smaller than its header", append(ftyp, 0, 0, 0, 4, 'm', 'o', 'o', 'v'), 0, "bad size"},
		{"64-bit size past the end", append(ftyp, largeBox("moov", nil)[:12]...), 0, "truncated"},
		{"64-bit size too big", append(append(ftyp, 0, 0, 0, 1, 'm', 'o', 'o', 'v'), 0xff, 0, 0, 0, 0, 0, 0, 0), 0, "larger than the file"},
		{"stray bytes", append(box("free"), 1, 2, 3), 0, "3 stray bytes"},
		{"too many boxes", bytes.Repeat(box("free"), maxBoxes+1), 0, "no moov box in the first 256 boxes"},
		{"a huge duration is capped", box("moov", mvhd1(1, math.MaxUint64-1)), time.Duration(1e6 * float64(time.Second)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mvhdDuration(bytes.NewReader(tt.file), int64(len(tt.file)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("mvhdDuration = %v, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("mvhdDuration = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// countingReader records how many bytes mvhdDuration reads.
type countingReader struct {
	r     *bytes.Reader
	bytes int
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	c.bytes += len(b)
	return c.r.ReadAt(b, off)
}

// TestMVHDReadsOnlyHeaders checks that a big mdat is skipped, not read.
func TestMVHDReadsOnlyHeaders(t *testing.T) {
	file := bytes.Join([][]byte{ftyp, box("mdat", make([]byte, 4<<20)), box("moov", mvhd0(1000, 10_000))}, nil)
	c := &countingReader{r: bytes.NewReader(file)}
	if d, err := mvhdDuration(c, int64(len(file))); err != nil || d != 10*time.Second {
		t.Fatalf("mvhdDuration = %v, %v", d, err)
	}
	if c.bytes > 100 {
		t.Errorf("read %d bytes of a %d-byte file; want only box headers and mvhd", c.bytes, len(file))
	}
}

func TestFormatSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		140 * time.Second:            "140 s",
		140*time.Second + 20*1e6:     "140.02 s",
		400 * time.Millisecond:       "0.4 s",
		499999 * time.Microsecond:    "0.499999 s",
		140000400 * time.Microsecond: "140.0004 s",
		4999999 * time.Microsecond:   "5 s",
		1234567 * time.Microsecond:   "1.235 s",
	} {
		if got := formatSeconds(d); got != want {
			t.Errorf("formatSeconds(%v) = %q; want %q", d, got, want)
		}
	}
}

// FuzzMVHD feeds arbitrary bytes to the MP4 reader: it must never panic,
// and a duration it returns is never negative.
//
//	go test -run='^$' -fuzz=FuzzMVHD -fuzztime=60s ./schedules/
//
// The seed corpus is the fixtures built here plus testdata/fuzz/FuzzMVHD.
func FuzzMVHD(f *testing.F) {
	f.Add(videoFixture(10 * time.Second))
	f.Add(box("moov", mvhd1(90000, 1<<40)))
	f.Add(append(ftyp, largeBox("mdat", make([]byte, 8))...))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'v', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := mvhdDuration(bytes.NewReader(data), int64(len(data)))
		if err == nil && d < 0 {
			t.Fatalf("negative duration %v", d)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// videoAssets are the video files the golden bad-file tests load: tiny,
// built by videoFixture, and committed so that the .golden files can name
// them. TestVideoAssets keeps them equal to what the builder makes; run it
// with -update to rewrite them.
var videoAssets = map[string][]byte{
	"testdata/bad/assets/clip.mp4":  videoFixture(10 * time.Second),
	"testdata/bad/assets/short.mp4": videoFixture(400 * time.Millisecond),
	"testdata/bad/assets/long.mov":  videoFixture(140*time.Second + 20*time.Millisecond),
	"testdata/bad/assets/text.mp4":  []byte("not a video\n"),
}

func TestVideoAssets(t *testing.T) {
	for name, want := range videoAssets {
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from its fixture (%v); run go test ./schedules -run TestVideoAssets -update", name, err)
		}
	}
}
