package memredis

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
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
		"INFO":   {-1, cmdInfo},

		"GET":     {2, cmdGet},
		"SET":     {-3, cmdSet},
		"GETDEL":  {2, cmdGetDel},
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

func hashOf(v *value) map[string]string  { return v.hash }
func setOf(v *value) map[string]struct{} { return v.set }
func zsetOf(v *value) map[string]float64 { return v.zset }

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

func cmdInfo(s *Server, _ *client, _ [][]byte) any {
	var expires int
	for _, v := range s.db {
		if v.exp != 0 {
			expires++
		}
	}
	return "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nserver_name:citizenid-memredis\r\n\r\n# Keyspace\r\n" +
		"db0:keys=" + strconv.Itoa(len(s.db)) + ",expires=" + strconv.Itoa(expires) + "\r\n"
}

func cmdGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindString)
	if e != nil || v == nil {
		return e
	}
	return v.str
}

func cmdGetDel(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	v, e := s.getKind(key, kindString)
	if e != nil || v == nil {
		return e
	}
	s.remove(key)
	return v.str
}

// cmdSet is SET key value [NX|XX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] [GET].
func cmdSet(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	var nx, xx, keep, get bool
	var exp int64
	now := s.now().UnixMilli()
	for i := 3; i < len(a); i++ {
		opt := strings.ToUpper(string(a[i]))
		switch opt {
		case "NX":
			nx = true
		case "XX":
			xx = true
		case "KEEPTTL":
			keep = true
		case "GET":
			get = true
		case "EX", "PX", "EXAT", "PXAT":
			if i+1 == len(a) || exp != 0 {
				return errSyntax
			}
			i++
			n, err := strconv.ParseInt(string(a[i]), 10, 64)
			if err != nil {
				return errNotInt
			}
			if n <= 0 || n > math.MaxInt64/1000 {
				return errorf("ERR invalid expire time in '%s' command", "set")
			}
			switch opt {
			case "EX":
				exp = now + n*1000
			case "PX":
				exp = now + n
			case "EXAT":
				exp = n * 1000
			case "PXAT":
				exp = n
			}
		default:
			return errSyntax
		}
	}
	if (nx && xx) || (keep && exp != 0) {
		return errSyntax
	}
	old := s.get(key)
	var prev any
	if get {
		if old != nil && old.kind != kindString {
			return errWrongType
		}
		if old != nil {
			prev = old.str
		}
	}
	if (nx && old != nil) || (xx && old == nil) {
		return prev // nil unless GET
	}
	if keep && old != nil {
		exp = old.exp
	}
	s.put(key, &value{kind: kindString, str: string(a[2]), exp: exp})
	s.touched(key)
	if get {
		return prev
	}
	return ok
}

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
	if len(a) > 3 {
		return errSyntax
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

func cmdIncrBy(s *Server, _ *client, a [][]byte) any {
	n, err := strconv.ParseInt(string(a[2]), 10, 64)
	if err != nil {
		return errNotInt
	}
	return incrBy(s, string(a[1]), n)
}

func incrBy(s *Server, key string, by int64) any {
	v, e := s.getKind(key, kindString)
	if e != nil {
		return e
	}
	var n int64
	if v != nil {
		var err error
		if n, err = strconv.ParseInt(v.str, 10, 64); err != nil {
			return errNotInt
		}
	}
	if (by > 0 && n > math.MaxInt64-by) || (by < 0 && n < math.MinInt64-by) {
		return errReply("ERR increment or decrement would overflow")
	}
	n += by
	if v == nil {
		v = &value{kind: kindString}
		s.put(key, v)
	}
	v.str = strconv.FormatInt(n, 10)
	s.touched(key)
	return n
}

func cmdHSet(s *Server, _ *client, a [][]byte) any {
	if len(a)%2 != 0 {
		return arityError("HSET")
	}
	key := string(a[1])
	v, e := s.create(key, kindHash)
	if e != nil {
		return e
	}
	var added int64
	for i := 2; i < len(a); i += 2 {
		f := string(a[i])
		if _, had := v.hash[f]; !had {
			added++
		}
		v.hash[f] = string(a[i+1])
	}
	s.touched(key)
	return added
}

func cmdHGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil || v == nil {
		return e
	}
	if f, ok := v.hash[string(a[2])]; ok {
		return f
	}
	return nil
}

func cmdHMGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil {
		return e
	}
	out := make([]any, len(a)-2)
	for i, f := range a[2:] {
		if v != nil {
			if x, ok := v.hash[string(f)]; ok {
				out[i] = x
			}
		}
	}
	return out
}

func cmdHGetAll(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil {
		return e
	}
	out := []string{}
	if v != nil {
		for _, f := range slices.Sorted(maps.Keys(v.hash)) {
			out = append(out, f, v.hash[f])
		}
	}
	return out
}

func cmdHIncrBy(s *Server, _ *client, a [][]byte) any {
	key, f := string(a[1]), string(a[2])
	by, err := strconv.ParseInt(string(a[3]), 10, 64)
	if err != nil {
		return errNotInt
	}
	v, e := s.create(key, kindHash)
	if e != nil {
		return e
	}
	var n int64
	if x, had := v.hash[f]; had {
		if n, err = strconv.ParseInt(x, 10, 64); err != nil {
			return errReply("ERR hash value is not an integer")
		}
	}
	if (by > 0 && n > math.MaxInt64-by) || (by < 0 && n < math.MinInt64-by) {
		return errReply("ERR increment or decrement would overflow")
	}
	n += by
	v.hash[f] = strconv.FormatInt(n, 10)
	s.touched(key)
	return n
}

func cmdSAdd(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	v, e := s.create(key, kindSet)
	if e != nil {
		return e
	}
	var n int64
	for _, m := range a[2:] {
		if _, had := v.set[string(m)]; !had {
			v.set[string(m)] = struct{}{}
			n++
		}
	}
	s.touched(key)
	return n
}

func cmdSMembers(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindSet)
	if e != nil {
		return e
	}
	out := []string{}
	if v != nil {
		out = slices.Sorted(maps.Keys(v.set))
	}
	return out
}

func cmdSIsMember(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindSet)
	if e != nil {
		return e
	}
	if v != nil {
		if _, ok := v.set[string(a[2])]; ok {
			return int64(1)
		}
	}
	return int64(0)
}

// cmdZAdd is ZADD key score member [score member …]; none of ZADD's
// options is needed here, so they are refused.
func cmdZAdd(s *Server, _ *client, a [][]byte) any {
	if len(a)%2 != 0 {
		return errSyntax
	}
	scores := make([]float64, 0, (len(a)-2)/2)
	for i := 2; i < len(a); i += 2 {
		f, err := parseScore(a[i])
		if err != nil {
			return errNotFloat
		}
		scores = append(scores, f)
	}
	key := string(a[1])
	v, e := s.create(key, kindZSet)
	if e != nil {
		return e
	}
	var added int64
	for i, f := range scores {
		m := string(a[3+2*i])
		if _, had := v.zset[m]; !had {
			added++
		}
		v.zset[m] = f
	}
	s.touched(key)
	return added
}

func parseScore(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err == nil && math.IsNaN(f) {
		err = strconv.ErrSyntax
	}
	return f, err
}

func cmdZScore(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindZSet)
	if e != nil || v == nil {
		return e
	}
	if f, ok := v.zset[string(a[2])]; ok {
		return formatScore(f)
	}
	return nil
}

func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// scoreRange is a ZCOUNT or ZRANGE BYSCORE bound pair: "(" makes a bound
// exclusive, "-inf" and "+inf" are open.
type scoreRange struct {
	min, max       float64
	minExcl, maxEx bool
}

func parseBound(b []byte) (f float64, excl bool, err error) {
	if len(b) > 0 && b[0] == '(' {
		excl, b = true, b[1:]
	}
	f, err = parseScore(b)
	return f, excl, err
}

func parseRange(lo, hi []byte) (scoreRange, any) {
	var r scoreRange
	var err1, err2 error
	r.min, r.minExcl, err1 = parseBound(lo)
	r.max, r.maxEx, err2 = parseBound(hi)
	if err1 != nil || err2 != nil {
		return r, errReply("ERR min or max is not a float")
	}
	return r, nil
}

func (r scoreRange) has(f float64) bool {
	return (f > r.min || (!r.minExcl && f == r.min)) && (f < r.max || (!r.maxEx && f == r.max))
}

func cmdZCount(s *Server, _ *client, a [][]byte) any {
	r, e := parseRange(a[2], a[3])
	if e != nil {
		return e
	}
	v, e := s.getKind(string(a[1]), kindZSet)
	if e != nil {
		return e
	}
	var n int64
	if v != nil {
		for _, f := range v.zset {
			if r.has(f) {
				n++
			}
		}
	}
	return n
}

type member struct {
	name  string
	score float64
}

func byScore(x, y member) int {
	return cmp.Or(cmp.Compare(x.score, y.score), strings.Compare(x.name, y.name))
}

// cmdZRange is ZRANGE key start stop [BYSCORE] [LIMIT offset count]
// [WITHSCORES]: by rank, or by score with an optional LIMIT.
func cmdZRange(s *Server, _ *client, a [][]byte) any {
	var byScoreOpt, withScores, limit bool
	var offset, count int64 = 0, -1
	for i := 4; i < len(a); i++ {
		switch strings.ToUpper(string(a[i])) {
		case "BYSCORE":
			byScoreOpt = true
		case "WITHSCORES":
			withScores = true
		case "LIMIT":
			if i+2 >= len(a) {
				return errSyntax
			}
			var err1, err2 error
			offset, err1 = strconv.ParseInt(string(a[i+1]), 10, 64)
			count, err2 = strconv.ParseInt(string(a[i+2]), 10, 64)
			if err1 != nil || err2 != nil {
				return errNotInt
			}
			limit, i = true, i+2
		default:
			return errSyntax
		}
	}
	if limit && !byScoreOpt {
		return errReply("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	}
	var members []member
	if byScoreOpt {
		r, e := parseRange(a[2], a[3])
		if e != nil {
			return e
		}
		v, e := s.getKind(string(a[1]), kindZSet)
		if e != nil {
			return e
		}
		if v != nil {
			for m, f := range v.zset {
				if r.has(f) {
					members = append(members, member{m, f})
				}
			}
		}
		slices.SortFunc(members, byScore)
		if offset < 0 {
			members = nil
		} else {
			members = members[min(offset, int64(len(members))):]
		}
		if count >= 0 && count < int64(len(members)) {
			members = members[:count]
		}
	} else {
		start, err1 := strconv.ParseInt(string(a[2]), 10, 64)
		stop, err2 := strconv.ParseInt(string(a[3]), 10, 64)
		if err1 != nil || err2 != nil {
			return errNotInt
		}
		v, e := s.getKind(string(a[1]), kindZSet)
		if e != nil {
			return e
		}
		if v != nil {
			for m, f := range v.zset {
				members = append(members, member{m, f})
			}
		}
		slices.SortFunc(members, byScore)
		n := int64(len(members))
		if start < 0 {
			start = max(n+start, 0)
		}
		if stop < 0 {
			stop = n + stop
		}
		stop = min(stop, n-1)
		if start > stop {
			members = nil
		} else {
			members = members[start : stop+1]
		}
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		out = append(out, m.name)
		if withScores {
			out = append(out, formatScore(m.score))
		}
	}
	return out
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
