package memredis

import (
	"strings"
)

// value is one key's value and expiry. Exactly one of the four kinds is
// used; kind says which.
type value struct {
	kind byte  // kindString, kindHash, kindSet, kindZSet
	exp  int64 // Unix milliseconds; 0: no TTL
	str  string
	hash map[string]string
	set  map[string]struct{}
	zset map[string]float64
}

const (
	kindString byte = iota + 1
	kindHash
	kindSet
	kindZSet
)

var kindNames = map[byte]string{kindString: "string", kindHash: "hash", kindSet: "set", kindZSet: "zset"}

type command struct {
	arity int // as Redis counts: the name included; negative: at least -arity
	run   func(s *Server, c *client, args [][]byte) any
}

func (c command) arityOK(n int) bool {
	if c.arity < 0 {
		return n >= -c.arity
	}
	return n == c.arity
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"PING":   {-1, cmdPing},
		"ECHO":   {2, func(_ *Server, _ *client, a [][]byte) any { return a[1] }},
		"HELLO":  {-1, func(*Server, *client, [][]byte) any { return errReply("NOPROTO this server speaks RESP2 only") }},
		"CLIENT": {-2, cmdClient},
		"SELECT": {2, cmdSelect},

		"GET":     {2, cmdGet},
		"SET":     {-3, cmdSet},
		"GETDEL":  {2, cmdGetDel},
		"MGET":    {-2, cmdMGet},
		"DEL":     {-2, cmdDel},
		"UNLINK":  {-2, cmdDel},
		"EXISTS":  {-2, cmdExists},
		"EXPIRE":  {3, func(s *Server, c *client, a [][]byte) any { return cmdExpire(s, a, 1000) }},
		"PEXPIRE": {3, func(s *Server, c *client, a [][]byte) any { return cmdExpire(s, a, 1) }},
		"TTL":     {2, func(s *Server, c *client, a [][]byte) any { return cmdTTL(s, a, 1000) }},
		"PTTL":    {2, func(s *Server, c *client, a [][]byte) any { return cmdTTL(s, a, 1) }},
		"PERSIST": {2, cmdPersist},
		"TYPE":    {2, cmdType},
		"INCR":    {2, func(s *Server, c *client, a [][]byte) any { return incrBy(s, string(a[1]), 1) }},
		"INCRBY":  {3, cmdIncrBy},

		"HSET":    {-4, cmdHSet},
		"HGET":    {3, cmdHGet},
		"HMGET":   {-3, cmdHMGet},
		"HGETALL": {2, cmdHGetAll},
		"HDEL":    {-3, func(s *Server, _ *client, a [][]byte) any { return removeElems(s, a, kindHash, hashOf) }},
		"HLEN":    {2, func(s *Server, _ *client, a [][]byte) any { return cardinality(s, a, kindHash, hashOf) }},
		"HINCRBY": {4, cmdHIncrBy},

		"SADD":      {-3, cmdSAdd},
		"SREM":      {-3, func(s *Server, _ *client, a [][]byte) any { return removeElems(s, a, kindSet, setOf) }},
		"SMEMBERS":  {2, cmdSMembers},
		"SCARD":     {2, func(s *Server, _ *client, a [][]byte) any { return cardinality(s, a, kindSet, setOf) }},
		"SISMEMBER": {3, cmdSIsMember},

		"ZADD":   {-4, cmdZAdd},
		"ZREM":   {-3, func(s *Server, _ *client, a [][]byte) any { return removeElems(s, a, kindZSet, zsetOf) }},
		"ZCARD":  {2, func(s *Server, _ *client, a [][]byte) any { return cardinality(s, a, kindZSet, zsetOf) }},
		"ZSCORE": {3, cmdZScore},
		"ZCOUNT": {4, cmdZCount},
		"ZRANGE": {-4, cmdZRange},

		"KEYS":     {2, cmdKeys},
		"SCAN":     {-2, cmdScan},
		"DBSIZE":   {1, cmdDBSize},
		"FLUSHDB":  {-1, cmdFlush},
		"FLUSHALL": {-1, cmdFlush},
		"MEMORY":   {-2, cmdMemory},

		"EVAL":    {-3, cmdEval},
		"EVALSHA": {-3, cmdEvalSHA},
		"SCRIPT":  {-2, cmdScript},
	}
}

// get returns key's live value, deleting it first if it has expired.
func (s *Server) get(key string) *value {
	v := s.db[key]
	if v != nil && v.exp != 0 && v.exp <= s.now().UnixMilli() {
		s.remove(key)
		return nil
	}
	return v
}

// getKind is get for a command on one kind: a value of another kind is
// WRONGTYPE.
func (s *Server) getKind(key string, kind byte) (*value, any) {
	v := s.get(key)
	if v != nil && v.kind != kind {
		return nil, errWrongType
	}
	return v, nil
}

// create returns key's value of kind, creating it empty when missing.
func (s *Server) create(key string, kind byte) (*value, any) {
	v, e := s.getKind(key, kind)
	if e != nil || v != nil {
		return v, e
	}
	v = &value{kind: kind}
	switch kind {
	case kindHash:
		v.hash = map[string]string{}
	case kindSet:
		v.set = map[string]struct{}{}
	case kindZSet:
		v.zset = map[string]float64{}
	}
	s.put(key, v)
	return v, nil
}

func (s *Server) put(key string, v *value) {
	s.db[key] = v
	s.peak = max(s.peak, len(s.db))
}

func (s *Server) remove(key string) {
	delete(s.db, key)
	s.touched(key)
}

// dropIfEmpty deletes a collection left without elements, as Redis does.
func (s *Server) dropIfEmpty(key string, v *value) {
	if len(v.hash)+len(v.set)+len(v.zset) == 0 && v.kind != kindString {
		s.remove(key)
	}
}

// removeElems is HDEL, SREM and ZREM: it deletes the named fields or
// members of key's collection (elems picks it out of the value), and the
// key once the collection is empty.
func removeElems[V any](s *Server, a [][]byte, kind byte, elems func(*value) map[string]V) any {
	key := string(a[1])
	v, e := s.getKind(key, kind)
	if e != nil {
		return e
	}
	if v == nil {
		return int64(0)
	}
	m := elems(v)
	var n int64
	for _, f := range a[2:] {
		if _, had := m[string(f)]; had {
			delete(m, string(f))
			n++
		}
	}
	if n > 0 {
		s.touched(key)
		s.dropIfEmpty(key, v)
	}
	return n
}

// cardinality is HLEN, SCARD and ZCARD.
func cardinality[V any](s *Server, a [][]byte, kind byte, elems func(*value) map[string]V) any {
	v, e := s.getKind(string(a[1]), kind)
	if e != nil {
		return e
	}
	if v == nil {
		return int64(0)
	}
	return int64(len(elems(v)))
}

func cmdPing(_ *Server, _ *client, a [][]byte) any {
	if len(a) > 1 {
		return a[1]
	}
	return simple("PONG")
}

func cmdClient(_ *Server, _ *client, a [][]byte) any {
	switch strings.ToUpper(string(a[1])) {
	case "SETINFO", "SETNAME":
		return ok
	case "GETNAME":
		return nil
	}
	return errorf("ERR unknown subcommand '%s'", printable(a[1]))
}

func cmdSelect(_ *Server, _ *client, a [][]byte) any {
	if string(a[1]) != "0" {
		return errReply("ERR DB index is out of range")
	}
	return ok
}
