package unixsock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(n uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, body...)
}

func TestReadFrame(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"one message", frame(3, []byte("abc")), []byte("abc"), nil},
		{"empty message", frame(0, nil), []byte{}, nil},
		{"nothing: clean end", nil, nil, io.EOF},
		{"a short header", []byte{0, 0}, nil, io.ErrUnexpectedEOF},
		{"a short body", frame(5, []byte("ab")), nil, io.ErrUnexpectedEOF},
		{"a length above 16 MiB is refused before reading", frame(MaxMessageSize+1, nil), nil, ErrTooLarge},
		{"exactly 16 MiB is announced fine (body missing here)", frame(MaxMessageSize, nil), nil, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(c.in))
			if c.err != nil {
				assert.True(t, errors.Is(err, c.err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteFrame(&b, []byte("hello")))
	assert.Equal(t, frame(5, []byte("hello")), b.Bytes())
	assert.ErrorIs(t, WriteFrame(&b, make([]byte, MaxMessageSize+1)), ErrTooLarge)
}

// FuzzReadFrame: any byte stream reads as frames that write back to the same bytes,
// or fails; it never panics nor allocates beyond the maximum.
func FuzzReadFrame(f *testing.F) {
	f.Add(frame(3, []byte("abc")))
	f.Add(frame(0, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(append(frame(1, []byte("a")), frame(2, []byte("bc"))...))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var out bytes.Buffer
		for {
			msg, err := ReadFrame(r)
			if err != nil {
				break
			}
			require.LessOrEqual(t, len(msg), MaxMessageSize)
			require.NoError(t, WriteFrame(&out, msg))
		}
		require.True(t, bytes.HasPrefix(in, out.Bytes()), "frames read must re-encode to the input's prefix")
	})
}

// FuzzClassify: any message is placed without panicking, and a placed one parses.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x01, 'x'})
	f.Add([]byte{0x0a, 0x01, 'h', 0x12, 0x01, 'p'})
	f.Fuzz(func(t *testing.T, in []byte) {
		kind, msg := Classify(in)
		if kind != KindUnknown {
			require.NotNil(t, msg)
		}
	})
}
