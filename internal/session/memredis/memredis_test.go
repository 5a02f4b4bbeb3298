package memredis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenid/citizenid/internal/testenv"
)

func start(t *testing.T) (*Server, *redis.Client) { return startVia(t, "tcp") }

// startVia starts a server and a client connected to it through its TCP
// listener ("tcp") or in memory ("pipe", Dial).
func startVia(t testing.TB, via string) (*Server, *redis.Client) {
	t.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opt := &redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true}
	if via == "pipe" {
		opt.Dialer = func(context.Context, string, string) (net.Conn, error) { return s.Dial() }
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close(); s.Close() })
	return s, rdb
}

// transports are the two ways a client reaches the server.
var transports = []string{"tcp", "pipe"}

// step is one command of a differential case, and how to compare its
// replies: unordered for replies whose order Redis does not promise.
type step struct {
	args      []any
	unordered bool
}

func cmd(args ...any) step       { return step{args: args} }
func unordered(args ...any) step { return step{args: args, unordered: true} }

// Scripts of the kind CitizenID's throttle runs (its own scripts run on
// both servers in the session package's TestThrottle), and the
// conversions a script's result goes through.
const (
	counterLua = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'at', tonumber(ARGV[1]) + n)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {n, math.ceil(math.min(2 ^ n, 3) / 2), tostring(1.5)}`
	conversionsLua = `return {1, 2.7, 'x', true, false, {3, 'y'}, redis.call('GET', KEYS[1]), redis.status_reply('FINE')}`
)

// differential cases: each runs on a real Redis and on this server, and
// every reply must be the same (an error only by its first word: the
// texts differ between Redis versions too).
var differential = map[string][]step{
	"strings": {
		cmd("SET", "k", "v"), cmd("GET", "k"), cmd("SET", "k", "w", "NX"), cmd("SET", "n", "1", "XX"),
		cmd("SET", "k", "w", "XX", "GET"), cmd("GET", "k"), cmd("SET", "k", "x", "NX", "XX"),
		cmd("SET", "k", "y", "EX", "100"), cmd("TTL", "k"), cmd("SET", "k", "z", "KEEPTTL"), cmd("TTL", "k"),
		cmd("SET", "k", "z"), cmd("TTL", "k"), cmd("TTL", "missing"), cmd("SET", "k", "z", "EX", "0"),
		cmd("SET", "k", "z", "PX", "abc"), cmd("GETDEL", "k"), cmd("GETDEL", "k"), cmd("EXISTS", "k", "k", "n"),
		cmd("INCR", "c"), cmd("INCRBY", "c", "41"), cmd("GET", "c"), cmd("SET", "s", "x"), cmd("INCR", "s"),
		cmd("DEL", "c", "s", "nothing"), cmd("TYPE", "c"), cmd("GET"), cmd("SET", "k", "v", "EX"),
		cmd("SET", "a", "1"), cmd("HSET", "h", "f", "v"), cmd("MGET", "a", "missing", "h", "a"), cmd("MGET", "missing"), cmd("MGET"), cmd("MGET", "h"),
	},
	"expire": {
		cmd("SET", "k", "v"), cmd("EXPIRE", "k", "100"), cmd("TTL", "k"), cmd("PEXPIRE", "k", "100000"), cmd("PTTL", "k"),
		cmd("PERSIST", "k"), cmd("TTL", "k"), cmd("EXPIRE", "missing", "10"), cmd("EXPIRE", "k", "x"),
		cmd("EXPIRE", "k", "0"), cmd("EXISTS", "k"), cmd("SET", "k", "v"), cmd("EXPIRE", "k", "-5"), cmd("GET", "k"),
	},
	"hashes": {
		cmd("HSET", "h", "a", "1", "b", "2"), cmd("HSET", "h", "a", "3"), cmd("HGET", "h", "a"), cmd("HGET", "h", "zz"),
		cmd("HMGET", "h", "a", "zz", "b"), cmd("HMGET", "nohash", "a"), cmd("HINCRBY", "h", "a", "-4"), cmd("HINCRBY", "h", "new", "2"),
		cmd("HGETALL", "h"), cmd("HLEN", "h"), cmd("HDEL", "h", "a", "b", "zz"), cmd("HDEL", "h", "new"), cmd("EXISTS", "h"),
		cmd("HSET", "h", "a"), cmd("HSET", "h", "a", "x"), cmd("HINCRBY", "h", "a", "1"), cmd("SET", "s", "x"), cmd("HGET", "s", "a"),
		cmd("HSET", "s", "a", "1"), cmd("TYPE", "h"),
	},
	"sets": {
		cmd("SADD", "s", "a", "b", "a"), cmd("SADD", "s", "c"), unordered("SMEMBERS", "s"), cmd("SCARD", "s"), cmd("SISMEMBER", "s", "b"),
		cmd("SREM", "s", "b", "zz"), cmd("SMEMBERS", "none"), cmd("SREM", "s", "a", "c"), cmd("EXISTS", "s"), cmd("SCARD", "s"),
		cmd("SET", "str", "x"), cmd("SADD", "str", "a"), cmd("TYPE", "str"),
	},
	"sorted sets": {
		cmd("ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb"), cmd("ZADD", "z", "5", "a"), cmd("ZCARD", "z"), cmd("ZSCORE", "z", "a"),
		cmd("ZRANGE", "z", "0", "-1"), cmd("ZRANGE", "z", "1", "2", "WITHSCORES"), cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE"),
		cmd("ZRANGE", "z", "-inf", "2", "BYSCORE", "LIMIT", "0", "2"), cmd("ZRANGE", "z", "(2", "+inf", "BYSCORE"),
		cmd("ZRANGE", "z", "2", "3", "BYSCORE", "LIMIT", "1", "10"), cmd("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
		cmd("ZCOUNT", "z", "(2", "+inf"), cmd("ZCOUNT", "z", "-inf", "(3"), cmd("ZCOUNT", "z", "x", "3"), cmd("ZADD", "z", "x", "m"),
		cmd("ZREM", "z", "a", "zz"), cmd("ZRANGE", "z", "0", "-1"), cmd("ZREM", "z", "b", "bb", "c"), cmd("EXISTS", "z"),
		cmd("ZADD", "z", "1.5", "m"), cmd("ZSCORE", "z", "m"), cmd("ZRANGE", "none", "0", "-1"),
		cmd("ZADD", "z", "-inf", "lo", "+inf", "hi", "2", "two"), cmd("ZRANGE", "z", "-2", "-1", "WITHSCORES"),
		cmd("ZRANGE", "z", "5", "1"), cmd("ZRANGE", "z", "-100", "100"), cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"),
		cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"), cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"),
		// A malformed range is reported before the key's type.
		cmd("SET", "str", "x"), cmd("ZRANGE", "str", "x", "1"), cmd("ZRANGE", "str", "x", "1", "BYSCORE"),
		cmd("ZRANGE", "str", "0", "1"), cmd("ZRANGE", "str", "0", "1", "BYSCORE"),
	},
	"scripts": {
		cmd("EVAL", counterLua, "1", "t", "1796507175056", "60000"),
		cmd("EVAL", counterLua, "1", "t", "1796507175056", "60000"),
		cmd("EVAL", counterLua, "1", "t", "1796507175056", "60000"),
		cmd("HGET", "t", "at"), cmd("HGET", "t", "n"), cmd("PTTL", "t"),
		cmd("SET", "g", "hello"), cmd("EVAL", conversionsLua, "1", "g"),
		cmd("EVAL", "return redis.pcall('HGET', KEYS[1], 'a')", "1", "g"),
		cmd("EVAL", "return redis.call('HGET', KEYS[1], 'a')", "1", "g"),
		cmd("EVAL", "return nil", "0"), cmd("EVAL", "return {1, nil, 3}", "0"), cmd("EVAL", "return ARGV[1] .. KEYS[1]", "1", "k", "a"),
		cmd("EVAL", "return redis.error_reply('ERR mine')", "0"), cmd("EVAL", "return 1 +", "0"), cmd("EVAL", "return 1", "2", "k"),
		cmd("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"),
		cmd("EVALSHA", "d0e2c0ea92e1e92d00a36ca6c3b0ea4b11d7386f", "0"), // a SHA1 of nothing loaded
		cmd("SCRIPT", "LOAD", "return 7"), cmd("EVALSHA", "c0cf2f4c2a1d4eeffbec9a1a5fdb5e4a9a8e4ba2", "0"),
	},
	"transactions": {
		cmd("MULTI"), cmd("SET", "a", "1"), cmd("INCR", "a"), cmd("HSET", "a", "f", "v"), cmd("GET", "a"), cmd("EXEC"),
		cmd("MULTI"), cmd("SET", "a"), cmd("SET", "a", "2"), cmd("EXEC"), cmd("GET", "a"),
		cmd("MULTI"), cmd("NOSUCHCOMMAND"), cmd("EXEC"), cmd("EXEC"), cmd("DISCARD"),
		cmd("MULTI"), cmd("SET", "a", "3"), cmd("DISCARD"), cmd("GET", "a"), cmd("MULTI"), cmd("MULTI"), cmd("DISCARD"),
		cmd("WATCH", "a"), cmd("UNWATCH"),
	},
	"misc": {
		cmd("PING"), cmd("PING", "hi"), cmd("ECHO", "x"), cmd("SELECT", "0"), cmd("FOO"), cmd("GET", "a", "b"),
		cmd("SET", "x:1", "a"), cmd("SET", "x:2", "b"), cmd("SET", "y", "c"), unordered("KEYS", "x:*"), unordered("KEYS", "x:[12]"),
		unordered("KEYS", "?:?"), cmd("MEMORY", "USAGE", "none"),
	},
}

// TestAgainstRedis runs each differential case on a real Redis and here.
func TestAgainstRedis(t *testing.T) {
	ctx := context.Background()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	opt.Protocol = 2 // as the embedded client speaks
	real := redis.NewClient(opt)
	defer real.Close()
	for name, steps := range differential {
		for _, via := range transports {
			t.Run(name+"/"+via, func(t *testing.T) { againstRedis(t, ctx, real, steps, via) })
		}
	}
}

// againstRedis runs the steps of one differential case on real and on a
// server of this package reached through via.
func againstRedis(t *testing.T, ctx context.Context, real *redis.Client, steps []step, via string) {
	_, ours := startVia(t, via)
	// Keys are prefixed on the real server, which other tests share;
	// the replies then name prefixed keys, so only key
	// arguments are prefixed, and KEYS patterns with them.
	prefix := fmt.Sprintf("memredis-test:%d:", time.Now().UnixNano())
	defer func() {
		if keys, _ := real.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			real.Del(ctx, keys...)
		}
	}()
	realConn, ourConn := real.Conn(), ours.Conn()
	defer realConn.Close()
	defer ourConn.Close()
	for i, st := range steps {
		wantCmd := realConn.Do(ctx, prefixed(st.args, prefix)...)
		gotCmd := ourConn.Do(ctx, prefixed(st.args, prefix)...)
		want := normalize(wantCmd, st.unordered, prefix)
		got := normalize(gotCmd, st.unordered, prefix)
		if got != want && !sameTTL(st.args, gotCmd, wantCmd) {
			t.Errorf("step %d %q:\n got %s\nwant %s", i, st.args, got, want)
		}
	}
}

// prefixed puts prefix on the arguments that are keys: the first after
// the command name, every one after DEL, EXISTS and WATCH, KEYS's
// pattern, and EVAL's keys.
func prefixed(args []any, prefix string) []any {
	out := slices.Clone(args)
	name := strings.ToUpper(args[0].(string))
	switch name {
	case "PING", "ECHO", "SELECT", "MULTI", "EXEC", "DISCARD", "UNWATCH", "SCRIPT", "FOO", "NOSUCHCOMMAND":
	case "DEL", "EXISTS", "WATCH":
		for i := 1; i < len(out); i++ {
			out[i] = prefix + out[i].(string)
		}
	case "MEMORY":
		out[2] = prefix + out[2].(string)
	case "EVAL", "EVALSHA":
		n := 0
		fmt.Sscan(out[2].(string), &n)
		for i := 3; i < 3+n && i < len(out); i++ {
			out[i] = prefix + out[i].(string)
		}
	default:
		if len(out) > 1 {
			out[1] = prefix + out[1].(string)
		}
	}
	return out
}

// sameTTL reports whether a TTL or PTTL step's replies are a second or
// less apart: the two servers are asked a moment apart (longer under the
// race detector), and Redis rounds TTL to the nearest second.
func sameTTL(args []any, got, want *redis.Cmd) bool {
	name := strings.ToUpper(args[0].(string))
	if name != "TTL" && name != "PTTL" {
		return false
	}
	g, err1 := got.Int64()
	w, err2 := want.Int64()
	if err1 != nil || err2 != nil || g < 0 || w < 0 { // -1 and -2 say what the key is: exact
		return false
	}
	unit := map[string]int64{"TTL": 1, "PTTL": 1000}[name]
	return max(g-w, w-g) <= unit
}

// normalize renders a reply for comparison: errors by their first word,
// prefixes taken off, unordered arrays sorted.
func normalize(c *redis.Cmd, sorted bool, prefix string) string {
	v, err := c.Result()
	if errors.Is(err, redis.Nil) {
		return "nil"
	}
	if err != nil {
		word, _, _ := strings.Cut(err.Error(), " ")
		return "error " + word
	}
	s := fmt.Sprintf("%#v", v)
	if list, ok := v.([]any); ok && sorted {
		strs := make([]string, len(list))
		for i, e := range list {
			strs[i] = fmt.Sprint(e)
		}
		slices.Sort(strs)
		s = fmt.Sprint(strs)
	}
	return strings.ReplaceAll(s, prefix, "")
}

// TestExpiry: keys die at their TTL whether or not anyone reads them, and
// the memory of a map that shrank goes back.
func TestExpiry(t *testing.T) {
	s, rdb := start(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	s.mu.Lock()
	s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	const n = 10000
	pipe := rdb.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("k%d", i), "v", time.Duration(1+i%2)*time.Minute)
	}
	pipe.Set(ctx, "forever", "v", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	advance(90 * time.Second) // half of them expired
	if v, err := rdb.Get(ctx, "k0").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET of an expired key: %q, %v; want nil", v, err)
	}
	if got, _ := rdb.DBSize(ctx).Result(); got != n/2+1 {
		t.Fatalf("DBSIZE after half expired: %d, want %d", got, n/2+1)
	}
	advance(time.Minute)
	// Active expiry deletes what nobody reads, in bounded rounds.
	for i := 0; i < 1000; i++ {
		s.mu.Lock()
		s.expireSome(time.Second)
		left, peak := len(s.db), s.peak
		s.mu.Unlock()
		if left == 1 {
			// Rebuilt at least once since the 10,001 keys (the background
			// expiry may have rebuilt it on the way down, below 4,096).
			if peak >= n/4 {
				t.Fatalf("after expiry the map was not rebuilt: peak %d, want under %d", peak, n/4)
			}
			if v, _ := rdb.Get(ctx, "forever").Result(); v != "v" {
				t.Fatalf("a key without TTL: %q, want v", v)
			}
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("after 1,000 rounds of active expiry %d keys remain, want 1", len(s.db))
}

// TestWallClockExpiry: with the real clock, a key is gone at its TTL.
func TestWallClockExpiry(t *testing.T) {
	s, rdb := start(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ { // at most 2 s
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		left := len(s.db)
		s.mu.Unlock()
		if left == 0 {
			return
		}
	}
	t.Fatal("a key with a 50 ms TTL that nobody read still held after 2 s")
}

// TestWatch: EXEC aborts when a watched key changed, by any command of
// any connection, and nothing is left of the watch after.
func TestWatch(t *testing.T) {
	s, rdb := start(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		change func() error
		abort  bool
	}{
		{"untouched", func() error { return nil }, false},
		{"set", func() error { return rdb.Set(ctx, "w", "x", 0).Err() }, true},
		{"deleted", func() error { return rdb.Del(ctx, "w").Err() }, true},
		{"incremented", func() error { return rdb.Incr(ctx, "w").Err() }, true},
		{"script", func() error { return rdb.Eval(ctx, "return redis.call('SET', KEYS[1], 'y')", []string{"w"}).Err() }, true},
		{"other key", func() error { return rdb.Set(ctx, "unrelated", "x", 0).Err() }, false},
		{"read", func() error { return rdb.Get(ctx, "w").Err() }, false},
		{"expire", func() error { return rdb.Expire(ctx, "w", time.Hour).Err() }, true},
		{"flush", func() error { return rdb.FlushDB(ctx).Err() }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rdb.Set(ctx, "w", "0", 0)
			err := rdb.Watch(ctx, func(tx *redis.Tx) error {
				tx.Get(ctx, "w")
				if err := c.change(); err != nil && !errors.Is(err, redis.Nil) {
					t.Fatal(err)
				}
				_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "w", "mine", 0)
					return nil
				})
				return err
			}, "w")
			if c.abort != errors.Is(err, redis.TxFailedErr) || (!c.abort && err != nil) {
				t.Fatalf("EXEC: %v, want abort %v", err, c.abort)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.watchers) != 0 {
				t.Fatalf("watchers left after EXEC: %v", s.watchers)
			}
		})
	}
}

// TestNoMemoryOfDeletedKeys: miniredis kept every key it ever stored;
// here a deleted key leaves nothing.
func TestNoMemoryOfDeletedKeys(t *testing.T) {
	s, rdb := start(t)
	ctx := context.Background()
	for i := range 2000 {
		k := fmt.Sprintf("gone:%d", i)
		rdb.Set(ctx, k, "v", time.Minute)
		rdb.Watch(ctx, func(*redis.Tx) error { return nil }, k)
		rdb.Del(ctx, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.db) != 0 || len(s.watchers) != 0 {
		t.Fatalf("after deleting every key: %d keys, %d watched keys; want none", len(s.db), len(s.watchers))
	}
}

// TestProtocol: what a client sends that is not a command gets an error
// and, when the stream cannot be followed, the connection closed.
func TestProtocol(t *testing.T) {
	s, _ := start(t)
	for _, c := range []struct{ send, want string }{
		{"PING\r\n", "+PONG\r\n"},
		{"  ping   hi \n", "$2\r\nhi\r\n"},
		{"*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\nECHO\r\n", "+PONG\r\n-ERR wrong number of arguments for 'echo' command\r\n"},
		{"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n:4\r\n", "-ERR Protocol error: expected '$', got '\":4\"'\r\n"},
		{"*1\r\n$99999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$4\r\nPINGxx", "-ERR Protocol error: bulk string not terminated by CRLF\r\n"},
		{strings.Repeat("a", maxInline+1) + "\r\n", "-ERR Protocol error: too big inline request\r\n"},
	} {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(c.send)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(c.want))
		_, err = io.ReadFull(conn, got)
		if err != nil || string(got) != c.want {
			t.Errorf("sent %q: got %q (%v), want %q", c.send, got, err, c.want)
		}
		conn.Close()
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"a*c", "abc", true}, {"a*c", "abcd", false},
		{"*b*", "abc", true}, {"?", "a", true}, {"?", "", false}, {"a?c", "abc", true}, {"[ab]c", "bc", true},
		{"[^ab]c", "bc", false}, {"[^ab]c", "xc", true}, {"[a-c]", "b", true}, {"[c-a]", "b", true}, {"[a-c]", "d", false},
		{`\*`, "*", true}, {`\*`, "a", false}, {"[", "[", true}, {"[ab", "[ab", true}, {"cid:*:x", "cid:1:2:x", true},
		{"cid:*", "cid", false}, {"**a", "ba", true}, {"a/*", "a/b/c", true}, {`a\`, `a\`, true},
	} {
		if got := globMatch([]byte(c.pattern), []byte(c.s)); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// FuzzReadCommand: any bytes from a connection are a command, a clean
// error, or a short read; never a panic or a command that is not what an
// encoding of it says.
func FuzzReadCommand(f *testing.F) {
	for _, seed := range []string{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*-1\r\n", "*1\r\n$-1\r\n", "*3\r\n$0\r\n\r\n", "$4\r\nPING\r\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(b), 16<<10)
		for range 64 {
			args, err := readCommand(r)
			if err != nil {
				return
			}
			// What was read encodes back to a request that reads the same.
			var enc bytes.Buffer
			fmt.Fprintf(&enc, "*%d\r\n", len(args))
			for _, a := range args {
				fmt.Fprintf(&enc, "$%d\r\n%s\r\n", len(a), a)
			}
			again, err := readCommand(bufio.NewReader(&enc))
			if len(args) > 0 && (err != nil || !slices.EqualFunc(again, args, bytes.Equal)) {
				t.Fatalf("read %q, which reads back as %q (%v)", args, again, err)
			}
		}
	})
}

// TestPipe: the in-memory connection carries a pipeline larger than
// every buffer on the way (with writes that waited for the reader, the
// server answering the first commands and the client still writing the
// last would wait for each other), honours read deadlines as a socket
// does, and closes from either end.
func TestPipe(t *testing.T) {
	ctx := t.Context()
	s, rdb := startVia(t, "pipe")

	value := strings.Repeat("v", 1024)
	const n = 3000 // ~3 MB each way in one pipeline
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			p.Set(ctx, fmt.Sprint("k", i), value+fmt.Sprint(i), 0)
			p.Get(ctx, fmt.Sprint("k", i))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i := range n {
		if got := cmds[2*i+1].(*redis.StringCmd).Val(); got != value+fmt.Sprint(i) {
			t.Fatalf("GET k%d in the pipeline: got %d bytes, want %d", i, len(got), len(value+fmt.Sprint(i)))
		}
	}

	a, b := pipe()
	a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := a.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past the deadline: got %v, want a timeout", err)
	}
	a.SetReadDeadline(time.Time{})
	b.Write([]byte("x"))
	b.Close()
	if got, err := io.ReadAll(a); string(got) != "x" || err != nil {
		t.Errorf("read after the other end wrote and closed: got %q, %v; want \"x\", nil", got, err)
	}
	if _, err := a.Write([]byte("y")); err == nil {
		t.Error("write to a closed pipe: got nil error")
	}

	// The client's end closed: the server lets go of its connection.
	conns := func() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.conns) }
	if conns() == 0 {
		t.Fatal("no server connection while the client is open")
	}
	rdb.Close()
	for i := 0; conns() > 0; i++ {
		if i == 200 {
			t.Fatalf("server connections after the client closed: %d, want 0", conns())
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The server closed: a client's command fails at once, it does not wait.
	s2, rdb2 := startVia(t, "pipe")
	if err := rdb2.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	start := time.Now()
	if err := rdb2.Get(ctx, "k").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Errorf("command after the server closed: got %v, want an error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("command after the server closed took %v", d)
	}
	if _, err := s2.Dial(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("dial a closed server: got %v, want net.ErrClosed", err)
	}
}

// TestScriptRuns: each run of a script starts from the shared libraries
// alone, and what one run assigns is gone for the next. A run allocates
// about 1.2 KB in the engine (its globals, KEYS, ARGV, the function);
// tables made with L.NewTable (32 array and 32 hash slots each) and Lua
// 5.0's implicit arg table made it 12 KB.
func TestScriptRuns(t *testing.T) {
	ctx := t.Context()
	s, rdb := startVia(t, "pipe")
	steps := []struct {
		script string
		args   []any
		want   string
	}{
		{"x = ARGV[1] return x", []any{"set"}, "set"},
		{"return type(x)", nil, "nil"},
		{"return #KEYS .. #ARGV .. string.format('%d', 7)", nil, "007"},
		{"return redis.call('SET', 'k', ARGV[1]).ok .. redis.pcall('INCR', 'k').err", []any{"v"}, "OKERR value is not an integer or out of range"},
	}
	for _, st := range steps {
		got, err := rdb.Eval(ctx, st.script, nil, st.args...).Text()
		if err != nil || got != st.want {
			t.Errorf("EVAL %q: got %q, %v; want %q", st.script, got, err, st.want)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sha, e := s.lua.load([]byte("return redis.call('GET', KEYS[1])"))
	if e != nil {
		t.Fatal(e)
	}
	args := [][]byte{[]byte("1"), []byte("k"), []byte("arg")}
	var before, after runtime.MemStats
	const runs = 200
	runtime.ReadMemStats(&before)
	for range runs {
		if got := s.lua.run(nil, sha, args); got != "v" {
			t.Fatalf("run: got %v, want v", got)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 2<<10 {
		t.Errorf("a script run allocates %d bytes in the engine, want at most 2 KB", per)
	}
}

// BenchmarkScript is one EVALSHA of a compare and swap like the session
// store's, through the in-memory transport the embedded server uses.
func BenchmarkScript(b *testing.B) {
	ctx := b.Context()
	_, rdb := startVia(b, "pipe")
	swap := redis.NewScript(`local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)
	if err := rdb.Set(ctx, "k", "0", 0).Err(); err != nil {
		b.Fatal(err)
	}
	if err := swap.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n, err := swap.EvalSha(ctx, rdb, []string{"k"}, i, i+1, 60000).Int()
		if err != nil || n != 1 {
			b.Fatalf("swap %d: got %d, %v", i, n, err)
		}
	}
}
