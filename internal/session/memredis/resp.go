package memredis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of one command; a real Redis allows more, CitizenID never needs
// as much as these.
const (
	maxArgs = 1 << 16
	maxBulk = 16 << 20
)

// errProtocol is a malformed request: the connection is answered with an
// error and closed, as Redis does.
type errProtocol string

func (e errProtocol) Error() string { return "Protocol error: " + string(e) }

// readCommand reads one request: an array of bulk strings (what every
// client library sends) or an inline command (words on one line, as
// typed into telnet). It returns nil args for an empty inline line.
func readCommand(r *bufio.Reader) ([][]byte, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 || line[0] != '*' {
		return inline(line), nil
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n > maxArgs {
		return nil, errProtocol("invalid multibulk length")
	}
	if n <= 0 {
		return nil, nil
	}
	args := make([][]byte, n)
	for i := range args {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if len(line) == 0 || line[0] != '$' {
			return nil, errProtocol(fmt.Sprintf("expected '$', got '%s'", printable(line)))
		}
		size, err := strconv.Atoi(string(line[1:]))
		if err != nil || size < 0 || size > maxBulk {
			return nil, errProtocol("invalid bulk length")
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if b[size] != '\r' || b[size+1] != '\n' {
			return nil, errProtocol("bulk string not terminated by CRLF")
		}
		args[i] = b[:size:size]
	}
	return args, nil
}

// readLine reads up to CRLF (or a bare LF, as Redis accepts inline) and
// returns the line without it, refusing lines longer than a length
// header or an inline command needs.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxInline {
		return nil, errProtocol("too big inline request")
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// maxInline bounds an inline command and a header line.
const maxInline = 4 << 10

func inline(line []byte) [][]byte {
	var args [][]byte
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > i {
			args = append(args, append([]byte(nil), line[i:j]...))
		}
		i = j
	}
	return args
}

func printable(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return strconv.Quote(string(b))
}

// Replies. A handler returns one of: simple (+OK), errReply (-ERR …),
// int64, string or []byte (bulk), nil (null bulk), []any (array),
// nilArray (null array, an aborted EXEC).
type (
	simple   string
	errReply string
	nilArray struct{}
)

var (
	ok     any = simple("OK")
	queued any = simple("QUEUED")
)

func errorf(format string, a ...any) errReply { return errReply(fmt.Sprintf(format, a...)) }

var (
	errSyntax    = errReply("ERR syntax error")
	errWrongType = errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	errNotInt    = errReply("ERR value is not an integer or out of range")
	errNotFloat  = errReply("ERR value is not a valid float")
)

func writeReply(w *bufio.Writer, v any) {
	switch v := v.(type) {
	case nil:
		w.WriteString("$-1\r\n")
	case simple:
		w.WriteByte('+')
		w.WriteString(string(v))
		w.WriteString("\r\n")
	case errReply:
		w.WriteByte('-')
		w.WriteString(string(v))
		w.WriteString("\r\n")
	case int64:
		w.WriteByte(':')
		w.Write(strconv.AppendInt(w.AvailableBuffer(), v, 10))
		w.WriteString("\r\n")
	case string:
		w.WriteByte('$')
		w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(v)), 10))
		w.WriteString("\r\n")
		w.WriteString(v)
		w.WriteString("\r\n")
	case []byte:
		w.WriteByte('$')
		w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(v)), 10))
		w.WriteString("\r\n")
		w.Write(v)
		w.WriteString("\r\n")
	case []any:
		writeArray(w, v)
	case []string:
		writeArray(w, v)
	case nilArray:
		w.WriteString("*-1\r\n")
	default:
		panic(fmt.Sprintf("memredis: reply of type %T", v))
	}
}

func writeArray[T any](w *bufio.Writer, v []T) {
	w.WriteByte('*')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(v)), 10))
	w.WriteString("\r\n")
	for _, e := range v {
		writeReply(w, e)
	}
}
