package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
)

// The session engine "cache" on Redis: two managers on two clients (two
// processes, in a real deployment) share the sessions.
func ExampleNew() {
	// CACHE_URL in an application; here the tests' Redis.
	opt, err := redisstore.ParseURL(os.Getenv("TEST_REDIS_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	prefix := redisstore.WithPrefix("example:" + rand.Text() + ":")
	web1, web2 := redis.NewClient(opt), redis.NewClient(opt)
	defer web1.Close()
	defer web2.Close()
	m1, _ := session.New(session.Config{Store: redisstore.New(web1, prefix), SecretKey: "example secret"})
	m2, _ := session.New(session.Config{Store: redisstore.New(web2, prefix), SecretKey: "example secret"})

	ctx := context.Background()
	sess := m1.Open(ctx, "")
	sess.Set("username", "harun_dev")
	if err := sess.Save(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m2.Open(ctx, sess.Key()).GetString("username", "Guest"))
	// Output: harun_dev
}

// The session engine "cached_db": the database is the record (here an
// in-memory store stands in for dbstore), Redis caches it.
func ExampleNewCache() {
	opt, err := redisstore.ParseURL(os.Getenv("TEST_REDIS_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := redis.NewClient(opt)
	defer client.Close()
	db := memstore.New(nil) // dbstore.New(db) in an application
	store := redisstore.NewCache(client, db, redisstore.WithPrefix("example:"+rand.Text()+":"))
	defer store.Close()
	m, _ := session.New(session.Config{Store: store, SecretKey: "example secret"})

	ctx := context.Background()
	sess := m.Open(ctx, "")
	sess.Set("visits", 1)
	if err := sess.Save(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Open(ctx, sess.Key()).GetInt("visits", 0))
	st := store.Stats()
	fmt.Printf("hits %d, misses %d, fallbacks %d\n", st.Hits, st.Misses, st.Fallbacks)
	// Output:
	// 1
	// hits 1, misses 0, fallbacks 0
}
