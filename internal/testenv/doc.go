// Package testenv gives tests real PostgreSQL and Redis servers: the ones
// named by CITIZENID_TEST_DATABASE_URL and CITIZENID_TEST_REDIS_URL when
// set, otherwise throwaway servers it starts once per test process on free
// loopback ports and stops when the tests end.
//
// A package that uses it has
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// and calls PostgresURL or RedisURL from a test. When a server can be
// neither found nor started the test is skipped, except under CI=true,
// where it fails: a CI run must never pass by skipping.
//
// It is for tests only and owns nothing else. It does not apply migrations
// or flush data: that belongs to the code under test.
package testenv
