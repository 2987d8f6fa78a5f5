package unixsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxMessageSize is the largest message either side accepts (upstream's 16 MiB).
const MaxMessageSize = 16 << 20

// ErrTooLarge marks a frame whose announced or actual length exceeds MaxMessageSize.
var ErrTooLarge = errors.New("message exceeds the 16 MiB maximum")

// ReadFrame reads one length-prefixed message. An announced length above the maximum
// is refused before anything is allocated; a stream that ends inside a frame is
// io.ErrUnexpectedEOF, one that ends between frames io.EOF.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessageSize {
		return nil, fmt.Errorf("%w: announced %d bytes", ErrTooLarge, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteFrame writes one length-prefixed message in a single write.
func WriteFrame(w io.Writer, msg []byte) error {
	if len(msg) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(msg))
	}
	buf := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(buf, uint32(len(msg))) //nolint:gosec // bounded above
	copy(buf[4:], msg)
	_, err := w.Write(buf)
	return err
}
