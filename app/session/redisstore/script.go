package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// script is a Lua script run by its SHA-1 (EVALSHA), sent whole (EVAL)
// only when Redis does not know it yet (after a restart or SCRIPT FLUSH).
type script struct {
	*redis.Script
	src string
}

func newScript(src string) script { return script{redis.NewScript(src), src} }

// run runs the script; go-redis may send it again after a network error
// or a timeout, so the script must give the same effect when it runs
// twice (every script of CachedStore does).
func (sc script) run(ctx context.Context, c redis.UniversalClient, keys []string, args ...any) (any, error) {
	return sc.Run(ctx, c, keys, args...).Result()
}

// runOnce runs the script at most once: never again after a network
// error or a timeout, when Redis may have run it already. The compare-and-
// swap scripts of Store need this: run twice, an update that succeeded
// would report a conflict the second time (its own write), and the
// session manager would replay the request's changes on top of
// themselves (an increment counted twice). A lost reply is a fault, as
// for a database whose COMMIT reply is lost.
func (sc script) runOnce(ctx context.Context, c redis.UniversalClient, keys []string, args ...any) (any, error) {
	cmd := onceCmd{redis.NewCmd(ctx, evalArgs("evalsha", sc.Hash(), keys, args)...)}
	err := c.Process(ctx, cmd)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Not run: Redis does not know the script.
		cmd = onceCmd{redis.NewCmd(ctx, evalArgs("eval", sc.src, keys, args)...)}
		err = c.Process(ctx, cmd)
	}
	if err != nil {
		return nil, err
	}
	return cmd.Result()
}

func evalArgs(verb, script string, keys []string, args []any) []any {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, verb, script, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	return append(a, args...)
}

// onceCmd is a command that go-redis must not retry.
type onceCmd struct{ *redis.Cmd }

// NoRetry implements redis.Cmder.
func (onceCmd) NoRetry() bool { return true }
