package memredis

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"sync"
	"time"
)

// Server is one in-process Redis-protocol server: one database, no
// persistence. Commands run one at a time under one lock, as Redis runs
// them on one thread, so every command, transaction and script is atomic.
type Server struct {
	ln        net.Listener
	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu       sync.Mutex
	db       map[string]*value
	peak     int                             // the most keys db held since it was last rebuilt
	watchers map[string]map[*client]struct{} // WATCHed key → the connections watching it
	conns    map[*client]struct{}
	lua      *luaEngine
	now      func() time.Time
}

// Start listens on addr (host:port; port 0 picks one) and serves until
// Close.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, stop: make(chan struct{}), db: map[string]*value{},
		watchers: map[string]map[*client]struct{}{}, conns: map[*client]struct{}{}, now: time.Now}
	s.lua = newLuaEngine(s)
	s.wg.Add(2)
	go s.accept()
	go s.expireLoop(100 * time.Millisecond)
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every connection and waits for them.
// Closing again does nothing.
func (s *Server) Close() { s.closeOnce.Do(s.close) }

func (s *Server) close() {
	s.mu.Lock()
	close(s.stop) // under mu: add registers nothing after it
	for c := range s.conns {
		c.conn.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
	s.lua.close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		if !s.add(&client{conn: conn}) {
			return
		}
	}
}

// add registers c and serves it, unless the server is closing.
func (s *Server) add(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		c.conn.Close()
		return false
	default:
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go s.serve(c)
	return true
}

// client is one connection's state: its transaction and watched keys.
type client struct {
	conn    net.Conn
	multi   bool // between MULTI and EXEC/DISCARD
	queue   []queuedCommand
	txError bool     // a command queued in MULTI was refused: EXEC aborts
	watched []string // keys this connection WATCHes
	dirty   bool     // a watched key changed: EXEC aborts
}

type queuedCommand struct {
	cmd  command
	args [][]byte
}

func (s *Server) serve(c *client) {
	defer s.wg.Done()
	defer func() {
		c.conn.Close()
		s.mu.Lock()
		s.unwatch(c)
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c.conn, 16<<10)
	w := bufio.NewWriterSize(c.conn, 16<<10)
	for {
		args, err := readCommand(r)
		if err != nil {
			var pe errProtocol
			if errors.As(err, &pe) {
				writeReply(w, errReply("ERR "+pe.Error()))
				w.Flush()
			}
			return
		}
		if len(args) == 0 {
			continue
		}
		quit := s.dispatch(c, args, w)
		// Answer a pipeline in one write: flush only once nothing more
		// is waiting to be read.
		if r.Buffered() == 0 || quit {
			if err := w.Flush(); err != nil || quit {
				return
			}
		}
	}
}

// dispatch runs one command of c and writes its reply; it reports whether
// the connection is to be closed (QUIT).
func (s *Server) dispatch(c *client, args [][]byte, w *bufio.Writer) (quit bool) {
	name := string(bytes.ToUpper(args[0]))
	switch name {
	case "QUIT":
		writeReply(w, ok)
		return true
	case "MULTI":
		if c.multi {
			writeReply(w, errReply("ERR MULTI calls can not be nested"))
			return false
		}
		c.multi, c.queue, c.txError = true, nil, false
		writeReply(w, ok)
		return false
	case "DISCARD":
		if !c.multi {
			writeReply(w, errReply("ERR DISCARD without MULTI"))
			return false
		}
		c.multi, c.queue = false, nil
		s.mu.Lock()
		s.unwatch(c)
		s.mu.Unlock()
		writeReply(w, ok)
		return false
	case "EXEC":
		writeReply(w, s.exec(c))
		return false
	case "WATCH":
		if c.multi {
			writeReply(w, errReply("ERR WATCH inside MULTI is not allowed"))
			return false
		}
		if len(args) < 2 {
			writeReply(w, arityError(name))
			return false
		}
		s.mu.Lock()
		for _, k := range args[1:] {
			s.watch(c, string(k))
		}
		s.mu.Unlock()
		writeReply(w, ok)
		return false
	case "UNWATCH":
		s.mu.Lock()
		s.unwatch(c)
		s.mu.Unlock()
		writeReply(w, ok)
		return false
	}
	cmd, found := commands[name]
	switch {
	case !found:
		writeReply(w, errorf("ERR unknown command '%s'", printable(args[0])))
		c.txError = c.txError || c.multi
		return false
	case !cmd.arityOK(len(args)):
		writeReply(w, arityError(name))
		c.txError = c.txError || c.multi
		return false
	case c.multi:
		c.queue = append(c.queue, queuedCommand{cmd, args}) // args are this command's own: readCommand allocates them
		writeReply(w, queued)
		return false
	}
	s.mu.Lock()
	reply := cmd.run(s, c, args)
	s.mu.Unlock()
	writeReply(w, reply)
	return false
}

func arityError(name string) errReply {
	return errorf("ERR wrong number of arguments for '%s' command", bytes.ToLower([]byte(name)))
}

// exec runs c's queued commands at once, unless one was refused when
// queued (EXECABORT) or a watched key changed since WATCH (a null array,
// which go-redis reports as redis.TxFailedErr).
func (s *Server) exec(c *client) any {
	if !c.multi {
		return errReply("ERR EXEC without MULTI")
	}
	queue, txError := c.queue, c.txError
	c.multi, c.queue, c.txError = false, nil, false
	s.mu.Lock()
	defer s.mu.Unlock()
	dirty := c.dirty
	s.unwatch(c)
	if txError {
		return errReply("EXECABORT Transaction discarded because of previous errors.")
	}
	if dirty {
		return nilArray{}
	}
	out := make([]any, len(queue))
	for i, q := range queue {
		out[i] = q.cmd.run(s, c, q.args)
	}
	return out
}

// watch and unwatch run under s.mu.
func (s *Server) watch(c *client, key string) {
	ws := s.watchers[key]
	if ws == nil {
		ws = map[*client]struct{}{}
		s.watchers[key] = ws
	}
	if _, dup := ws[c]; !dup {
		ws[c] = struct{}{}
		c.watched = append(c.watched, key)
	}
}

func (s *Server) unwatch(c *client) {
	for _, k := range c.watched {
		if ws := s.watchers[k]; ws != nil {
			delete(ws, c)
			if len(ws) == 0 {
				delete(s.watchers, k)
			}
		}
	}
	c.watched, c.dirty = nil, false
}

// touched marks the connections watching key: their EXEC aborts. Every
// change of a key calls it, expiry included.
func (s *Server) touched(key string) {
	for c := range s.watchers[key] {
		c.dirty = true
	}
}

// expireLoop deletes expired keys nobody reads, the way Redis's active
// expiry does: it samples keys (Go's map iteration starts at a random
// place) and samples again at once while a quarter or more of a sample
// had expired, for at most a few milliseconds each time.
func (s *Server) expireLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.expireSome(2 * time.Millisecond)
			s.mu.Unlock()
		}
	}
}

const sampleSize = 64

func (s *Server) expireSome(budget time.Duration) {
	start := s.now()
	now := start.UnixMilli()
	for {
		seen, expired := 0, 0
		for k, v := range s.db {
			if seen == sampleSize {
				break
			}
			seen++
			if v.exp != 0 && v.exp <= now {
				s.remove(k)
				expired++
			}
		}
		if expired*4 < seen || time.Since(start) > budget {
			break
		}
	}
	// Go maps do not shrink: after a peak (a burst of logins), copy the
	// keys into a map of today's size so the peak's memory goes back.
	if s.peak > 4096 && len(s.db) < s.peak/4 {
		db := make(map[string]*value, len(s.db))
		for k, v := range s.db {
			db[k] = v
		}
		s.db, s.peak = db, len(db)
	}
}
