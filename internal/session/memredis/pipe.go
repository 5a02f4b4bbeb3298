package memredis

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Dial connects to the server from the same process without a socket:
// what one end writes, the other reads from memory. Over 127.0.0.1 each
// round trip is four system calls and two wake-ups from the network
// poller, and on the embedded server they were more than half of what
// its Redis cost a login (a passkey login makes about 25 round trips).
// The TCP listener stays, for the tools and tests that connect from
// outside.
func (s *Server) Dial() (net.Conn, error) {
	ours, theirs := pipe()
	if !s.add(&client{conn: theirs}) {
		return nil, net.ErrClosed
	}
	return ours, nil
}

// pipe returns the two ends of an in-memory connection. Unlike net.Pipe,
// a write never waits for the reader: it is appended to the reader's
// buffer. A client writes a whole pipeline before it reads a reply, and
// the server may answer the first commands before it has read the last;
// with writes that wait, each would wait for the other.
func pipe() (net.Conn, net.Conn) {
	a, b := newBuffer(), newBuffer()
	return &pipeEnd{in: a, out: b}, &pipeEnd{in: b, out: a}
}

// buffer is one direction of a pipe.
type buffer struct {
	mu     sync.Mutex
	data   []byte // written; data[off:] not read yet
	off    int
	closed bool
	ready  chan struct{} // holds a token while data arrived or the pipe closed since the reader last looked
}

func newBuffer() *buffer { return &buffer{ready: make(chan struct{}, 1)} }

func (b *buffer) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

func (b *buffer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

// shrinkAbove is the capacity above which an emptied buffer is let go
// instead of kept for the next write: a large reply is not held for the
// life of the connection.
const shrinkAbove = 64 << 10

// pipeEnd is one end of a pipe: it reads from in and writes to out.
type pipeEnd struct {
	in, out *buffer

	mu       sync.Mutex // guards deadline and timer; one Read at a time uses them
	deadline time.Time
	timer    *time.Timer
}

func (p *pipeEnd) Read(q []byte) (int, error) {
	for {
		p.in.mu.Lock()
		if b := p.in; b.off < len(b.data) {
			n := copy(q, b.data[b.off:])
			b.off += n
			if b.off == len(b.data) { // all read: the next write starts at the front again
				b.off, b.data = 0, b.data[:0]
				if cap(b.data) > shrinkAbove {
					b.data = nil
				}
			}
			b.mu.Unlock()
			return n, nil
		}
		closed := p.in.closed
		p.in.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		if err := p.wait(); err != nil {
			return 0, err
		}
	}
}

// wait blocks until data may have arrived in p.in, or the read deadline
// passes (os.ErrDeadlineExceeded, a net.Error whose Timeout is true, as a
// socket's).
func (p *pipeEnd) wait() error {
	p.mu.Lock()
	deadline := p.deadline
	if deadline.IsZero() {
		p.mu.Unlock()
		<-p.in.ready
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		p.mu.Unlock()
		return os.ErrDeadlineExceeded
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	t := p.timer
	p.mu.Unlock()
	select {
	case <-p.in.ready:
		t.Stop()
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

func (p *pipeEnd) Write(q []byte) (int, error) {
	p.out.mu.Lock()
	if p.out.closed {
		p.out.mu.Unlock()
		return 0, io.ErrClosedPipe
	}
	p.out.data = append(p.out.data, q...)
	p.out.mu.Unlock()
	p.out.signal()
	return len(q), nil
}

// Close closes both directions: the other end reads what was written
// before, then io.EOF, and its writes fail.
func (p *pipeEnd) Close() error {
	p.in.close()
	p.out.close()
	return nil
}

func (p *pipeEnd) SetDeadline(t time.Time) error { return p.SetReadDeadline(t) }

func (p *pipeEnd) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
	return nil
}

// SetWriteDeadline does nothing: a write never waits.
func (p *pipeEnd) SetWriteDeadline(time.Time) error { return nil }

func (p *pipeEnd) LocalAddr() net.Addr  { return pipeAddr{} }
func (p *pipeEnd) RemoteAddr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "memredis" }
func (pipeAddr) String() string  { return "in-process" }
