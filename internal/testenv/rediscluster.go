package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RedisNode is a redis-server (or sentinel) this package started for one
// test.
type RedisNode struct {
	Addr string
	srv  *server
}

// Kill ends the node at once (SIGKILL), as a crash would.
func (n *RedisNode) Kill() {
	signalGroup(n.srv.cmd, killSignal)
	<-n.srv.done
}

// startRedisNode starts redis-server with args on a free loopback port in
// dir, and stops it when t ends. A missing redis-server skips t, or fails
// it under CI=true.
func startRedisNode(t testing.TB, dir string, args ...string) *RedisNode {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "Redis", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	if len(args) > 0 && strings.HasSuffix(args[0], ".conf") {
		// A sentinel: its configuration file names its port.
		conf, err := os.ReadFile(args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(args[0], append(conf, fmt.Sprintf("\nport %d\n", port)...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	all := append(args, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no")
	cmd := exec.Command(bin, all...)
	cmd.Dir = dir
	srv, err := start("redis-server", "", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)), cmd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitReady(srv, func() error { return redisOwn(addr, srv.cmd.Process.Pid) }); err != nil {
		srv.stop()
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	return &RedisNode{Addr: addr, srv: srv}
}

// StartRedisCluster starts a Redis Cluster of three masters (no replicas)
// made with `redis-cli --cluster create`, and returns its nodes' addresses
// once the cluster says it is ok.
func StartRedisCluster(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	var addrs []string
	for range 3 {
		n := startRedisNode(t, dir, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", len(addrs)))
		addrs = append(addrs, n.Addr)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		unavailable(t, "redis-cli", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for _, a := range addrs {
			if info, err := redisCommand(a, "CLUSTER INFO"); err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatal("the Redis Cluster did not become ok within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Sentinels is a Redis master with a replica, watched by three sentinels
// under the master name "citizenid".
type Sentinels struct {
	Master, Replica *RedisNode
	Addrs           []string // the sentinels'
	Name            string
}

// StartRedisSentinels starts a master, its replica and three sentinels
// that fail over one second after the master stops answering.
func StartRedisSentinels(t testing.TB) *Sentinels {
	t.Helper()
	dir := t.TempDir()
	s := &Sentinels{Name: "citizenid"}
	s.Master = startRedisNode(t, dir)
	host, port, _ := net.SplitHostPort(s.Master.Addr)
	s.Replica = startRedisNode(t, dir, "--replicaof", host, port)
	for i := range 3 {
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		text := fmt.Sprintf("sentinel monitor %s %s %s 2\nsentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n", s.Name, host, port, s.Name, s.Name, s.Name)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		n := startRedisNode(t, dir, conf, "--sentinel")
		s.Addrs = append(s.Addrs, n.Addr)
	}
	// Wait until the sentinels know the replica (they need it to fail over).
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := redisCommand(s.Addrs[0], "SENTINEL REPLICAS "+s.Name)
		if err == nil && strings.Contains(out, strings.Split(s.Replica.Addr, ":")[1]) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinels did not find the replica within 30 s: %q %v", out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// redisCommand sends an inline command and returns what the server
// answers within a moment, as text, for readiness checks.
func redisCommand(addr, command string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(command + "\r\n")); err != nil {
		return "", err
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	b, err := io.ReadAll(c) // ends at the deadline
	if len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// StartRedisTLS starts a redis-server that speaks only TLS, with a
// certificate for 127.0.0.1 from a throwaway CA, and returns its
// rediss:// URL and the CA's PEM file.
func StartRedisTLS(t testing.TB) (url, caFile string) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "citizenid test redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "redis.pem"), filepath.Join(dir, "redis.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "Redis", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", "0", "--tls-port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", certFile, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	cmd.Dir = dir
	srv, err := start("redis-server", "", filepath.Join(dir, "redis-tls.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	err = waitReady(srv, func() error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		b := make([]byte, 7)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "+PONG\r\n" {
			return fmt.Errorf("no PONG: %q %v", b, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return "rediss://" + addr, certFile
}

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
