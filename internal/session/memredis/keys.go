package memredis

// Commands on keys whatever their kind: DEL, EXISTS, the TTLs, TYPE, and
// the keyspace (KEYS, SCAN, DBSIZE, FLUSHDB, MEMORY USAGE).

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

func cmdDel(s *Server, _ *client, a [][]byte) any {
	var n int64
	for _, k := range a[1:] {
		if key := string(k); s.get(key) != nil {
			s.remove(key)
			n++
		}
	}
	return n
}

func cmdExists(s *Server, _ *client, a [][]byte) any {
	var n int64
	for _, k := range a[1:] {
		if s.get(string(k)) != nil {
			n++
		}
	}
	return n
}

// cmdExpire is EXPIRE (unit 1000) and PEXPIRE (unit 1); a TTL not in
// the future deletes the key, as in Redis.
func cmdExpire(s *Server, a [][]byte, unit int64) any {
	key := string(a[1])
	n, err := strconv.ParseInt(string(a[2]), 10, 64)
	if err != nil {
		return errNotInt
	}
	v := s.get(key)
	if v == nil {
		return int64(0)
	}
	if n > math.MaxInt64/unit/2 {
		return errorf("ERR invalid expire time in '%s' command", "expire")
	}
	if n <= 0 {
		s.remove(key)
		return int64(1)
	}
	v.exp = s.now().UnixMilli() + n*unit
	s.touched(key)
	return int64(1)
}

func cmdTTL(s *Server, a [][]byte, unit int64) any {
	v := s.get(string(a[1]))
	switch {
	case v == nil:
		return int64(-2)
	case v.exp == 0:
		return int64(-1)
	}
	ms := v.exp - s.now().UnixMilli()
	return (ms + unit/2) / unit
}

func cmdPersist(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	v := s.get(key)
	if v == nil || v.exp == 0 {
		return int64(0)
	}
	v.exp = 0
	s.touched(key)
	return int64(1)
}

func cmdType(s *Server, _ *client, a [][]byte) any {
	v := s.get(string(a[1]))
	if v == nil {
		return simple("none")
	}
	return simple(kindNames[v.kind])
}

func cmdKeys(s *Server, _ *client, a [][]byte) any {
	return s.matching(a[1])
}

// matching is the live keys that match a glob pattern, sorted.
func (s *Server) matching(pattern []byte) []string {
	now := s.now().UnixMilli()
	out := []string{}
	for k, v := range s.db {
		if (v.exp == 0 || v.exp > now) && globMatch(pattern, []byte(k)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// cmdScan is SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]. It answers
// every match at once with cursor 0: COUNT is only a hint in Redis too,
// and the embedded server's databases are small.
func cmdScan(s *Server, _ *client, a [][]byte) any {
	if string(a[1]) != "0" {
		return []any{"0", []string{}}
	}
	pattern, typ := []byte("*"), ""
	for i := 2; i < len(a); i += 2 {
		if i+1 >= len(a) {
			return errSyntax
		}
		switch strings.ToUpper(string(a[i])) {
		case "MATCH":
			pattern = a[i+1]
		case "COUNT":
			if _, err := strconv.Atoi(string(a[i+1])); err != nil {
				return errNotInt
			}
		case "TYPE":
			typ = strings.ToLower(string(a[i+1]))
		default:
			return errSyntax
		}
	}
	keys := s.matching(pattern)
	if typ != "" {
		keys = slices.DeleteFunc(keys, func(k string) bool { return kindNames[s.db[k].kind] != typ })
	}
	return []any{"0", keys}
}

func cmdDBSize(s *Server, _ *client, _ [][]byte) any {
	now := s.now().UnixMilli()
	var n int64
	for _, v := range s.db {
		if v.exp == 0 || v.exp > now {
			n++
		}
	}
	return n
}

func cmdFlush(s *Server, _ *client, a [][]byte) any {
	if len(a) > 2 || (len(a) == 2 && !slices.Contains([]string{"ASYNC", "SYNC"}, strings.ToUpper(string(a[1])))) {
		return errSyntax
	}
	for k := range s.watchers {
		s.touched(k)
	}
	s.db, s.peak = map[string]*value{}, 0
	return ok
}

// Sizes for MEMORY USAGE, from Go's layout on 64-bit machines: a string
// header, a map slot's share of control bytes and load factor, a value.
const (
	sizeString = 16
	sizeSlot   = 8 + 2 // a map slot's control byte, and the 7/8 load
	sizeValue  = 8 + 8 + 16 + 3*8
	sizeMap    = 48
)

// cmdMemory is MEMORY USAGE key: an estimate of the bytes the key takes
// in this server (its map entry, its value, and each element with its
// map slot), as Redis estimates its own.
func cmdMemory(s *Server, _ *client, a [][]byte) any {
	if strings.ToUpper(string(a[1])) != "USAGE" || len(a) < 3 {
		return errSyntax
	}
	key := string(a[2])
	v := s.get(key)
	if v == nil {
		return nil
	}
	n := sizeString + len(key) + 8 + sizeSlot + sizeValue + len(v.str)
	for f, x := range v.hash {
		n += 2*sizeString + len(f) + len(x) + sizeSlot
	}
	for m := range v.set {
		n += sizeString + len(m) + sizeSlot
	}
	for m := range v.zset {
		n += sizeString + len(m) + 8 + sizeSlot
	}
	if v.kind != kindString {
		n += sizeMap
	}
	return int64(n)
}
