package dbstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

type opKind uint8

const (
	opCreate opKind = iota
	opUpdate
	opDelete
)

// writeOp is one queued write and, once done, its result.
type writeOp struct {
	ctx   context.Context
	kind  opKind
	rec   session.Record // for opDelete only rec.Key
	old   string         // compare-and-swap token ("" for an unconditional delete)
	err   error
	wrote bool
	// turn receives true when this op's goroutine must lead the next
	// batch, false when the op is done.
	turn chan bool
}

func (op *writeOp) key() string { return op.rec.Key }

// maxBatch bounds one transaction, so that a burst cannot hold SQLite's
// write lock for long.
const maxBatch = 256

// committer applies writes in groups: concurrent writers queue their
// operations, and one of them, the leader, runs every queued operation in a
// single transaction. SQLite then pays its per-transaction costs (taking
// the write lock, appending the commit record to the WAL, and with
// synchronous=FULL an fsync) once per group instead of once per session.
// Each writer returns only after the transaction holding its write has
// committed, with its own result: one operation's compare-and-swap
// conflict does not fail the others.
//
// There is no background goroutine: the first writer to find no leader
// leads; when its batch is done, it hands the lead to the oldest waiting
// writer, if any.
//
// On PostgreSQL (abortsOnError) two things differ. A statement that fails
// aborts the whole transaction, so a batch where one fails is rolled back
// and each of its operations runs again in a transaction of its own: one
// bad write (a key longer than the column, say) fails alone. And rows are
// locked as they are written, so every batch writes its sessions in key
// order: two processes' batches then always lock in the same order and
// cannot deadlock.
type committer struct {
	db      *sql.DB  // the writer connection
	sql     *queries // the statements to prepare
	timeArg func(time.Time) any
	stmts   statements
	cache   recordCache  // nil without a cache
	lost    func() error // asked before each batch: non-nil when the database must not be written

	// busyTimeout is SQLite's busy timeout on the writer connection (0 on
	// PostgreSQL, where the context bounds lock waits): a batch whose
	// earliest deadline is nearer lowers it for its own BEGIN.
	busyTimeout time.Duration

	abortsOnError bool

	// observe, when set, receives the number of writes of each
	// transaction (WithBatchObserver).
	observe func(size int)

	mu      sync.Mutex
	queue   []*writeOp
	leading bool

	commits, writes, rollbacks atomic.Int64
}

// do queues op and returns its result once committed. A writer waiting in
// the queue gives up when its context ends, and is then never applied; once
// a leader has taken it into a batch, it waits for that batch, which is
// itself bounded by the earliest deadline in it.
func (c *committer) do(op *writeOp) error {
	if err := op.ctx.Err(); err != nil {
		return err
	}
	op.turn = make(chan bool, 1)
	c.mu.Lock()
	c.queue = append(c.queue, op)
	if c.leading {
		c.mu.Unlock()
		lead, err := c.wait(op)
		if err != nil {
			return err
		}
		if !lead {
			return op.err
		}
		c.mu.Lock()
	} else {
		c.leading = true
	}
	// Lead: op is first in the queue.
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	c.run(batch)
	for _, o := range batch[1:] {
		o.turn <- false
	}

	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].turn <- true
	} else {
		c.leading = false
		c.queue = nil
	}
	c.mu.Unlock()
	return op.err
}

// wait waits for op's turn: true when op must lead the next batch, false
// when it is done. When op's context ends first and op is still queued, op
// leaves the queue and wait returns the context's error.
func (c *committer) wait(op *writeOp) (bool, error) {
	select {
	case lead := <-op.turn:
		return lead, nil
	case <-op.ctx.Done():
	}
	c.mu.Lock()
	select {
	case lead := <-op.turn:
		// Handed the lead (or done) just now: take it, so that the queue
		// behind keeps moving.
		c.mu.Unlock()
		return lead, nil
	default:
	}
	if i := slices.Index(c.queue, op); i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
		c.mu.Unlock()
		return false, fmt.Errorf("wait for the database writer: %w", op.ctx.Err())
	}
	c.mu.Unlock()
	// A leader took op into its batch: the batch ends by its earliest
	// deadline, so the result is near.
	return <-op.turn, nil
}

// run executes batch in one transaction and sets each op's result.
func (c *committer) run(batch []*writeOp) {
	live := batch[:0:0]
	var deadline time.Time
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = err
			continue
		}
		if d, ok := op.ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	if err := c.lost(); err != nil {
		failAll(live, err)
		return
	}
	// The transaction serves many requests: one client going away must
	// not roll back the others' writes, but the earliest deadline bounds
	// it.
	ctx := context.WithoutCancel(live[0].ctx)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if c.abortsOnError {
		slices.SortStableFunc(live, func(a, b *writeOp) int { return strings.Compare(a.key(), b.key()) })
	}
	if c.runTx(ctx, live) {
		return
	}
	c.rollbacks.Add(1)
	for _, op := range live {
		c.runTx(ctx, []*writeOp{op})
	}
}

// begin takes the writer connection and starts a transaction on it, both
// within ctx. On SQLite, when ctx's deadline is nearer than the busy
// timeout, the busy timeout of the connection is lowered for this
// transaction: SQLite's wait for another process's write lock must end by
// the deadline too. done returns the connection to the pool.
func (c *committer) begin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("wait for the database writer: %w", err)
	}
	done = func() { conn.Close() }
	if d, ok := ctx.Deadline(); ok && c.busyTimeout > 0 {
		if left := time.Until(d); left < c.busyTimeout {
			ms := max(left.Milliseconds(), 1)
			if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(ms, 10)); err != nil {
				conn.Close()
				return nil, nil, fmt.Errorf("set the busy timeout: %w", err)
			}
			done = func() {
				// Back to the connection's own value, for the next user.
				conn.ExecContext(context.Background(), "PRAGMA busy_timeout = "+strconv.FormatInt(c.busyTimeout.Milliseconds(), 10))
				conn.Close()
			}
		}
	}
	tx, err = conn.BeginTx(ctx, nil)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	return tx, done, nil
}

// runTx executes ops in one transaction and sets each op's result. It
// returns false when it rolled back a transaction of several ops because
// one failed (abortsOnError): then no op took effect and the results are
// meaningless.
func (c *committer) runTx(ctx context.Context, ops []*writeOp) bool {
	tx, done, err := c.begin(ctx)
	if err != nil {
		failAll(ops, err)
		return true
	}
	defer done()
	wrote := false
	for i := 0; i < len(ops); {
		// A run of updates goes in one statement where the engine has one.
		n := 1
		if c.stmts.updateMany != nil {
			for i+n < len(ops) && ops[i].kind == opUpdate && ops[i+n].kind == opUpdate {
				n++
			}
		}
		run := ops[i : i+n]
		i += n
		var err error
		if n > 1 {
			err = c.applyUpdates(ctx, tx, run)
		} else {
			run[0].wrote = false
			run[0].err = c.apply(ctx, tx, run[0])
			err = run[0].err
		}
		if c.abortsOnError && failed(err) {
			// The transaction is aborted: COMMIT would only roll it back.
			tx.Rollback()
			c.counted(len(ops))
			if len(ops) > 1 {
				return false
			}
			run[0].wrote = false
			return true
		}
		for _, op := range run {
			wrote = wrote || op.wrote
		}
	}
	var before cacheToken
	if c.cache != nil {
		before = c.cache.beginCommit()
	}
	err = tx.Commit()
	c.counted(len(ops))
	if c.cache != nil {
		c.cache.endCommit(before, err == nil, wrote, ops)
	}
	if err != nil {
		failAll(ops, fmt.Errorf("commit: %w", err))
	}
	return true
}

// counted counts a transaction of n writes.
func (c *committer) counted(n int) {
	c.commits.Add(1)
	c.writes.Add(int64(n))
	if c.observe != nil {
		c.observe(n)
	}
}

// failed reports whether err is a failure of the database, rather than one
// of the results a write may have (nil, ErrExists, ErrNotFound,
// ErrConflict).
func failed(err error) bool {
	return err != nil && !errors.Is(err, session.ErrExists) && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrConflict)
}

// statements are the committer's statements, prepared once on the writer.
type statements struct {
	create, update, delete, deleteIf, exists *sql.Stmt
	updateMany                               *sql.Stmt // nil where the engine has none
}

func prepare(ctx context.Context, db *sql.DB, q *queries) (statements, error) {
	var st statements
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.create, q.create},
		{&st.update, q.update},
		{&st.delete, q.delete},
		{&st.deleteIf, q.deleteIf},
		{&st.exists, q.exists},
		{&st.updateMany, q.updateMany},
	} {
		if p.query == "" {
			continue
		}
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			st.close()
			return statements{}, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = stmt
	}
	return st, nil
}

func (st statements) close() {
	for _, s := range []*sql.Stmt{st.create, st.update, st.delete, st.deleteIf, st.exists, st.updateMany} {
		if s != nil {
			s.Close()
		}
	}
}

func failAll(ops []*writeOp, err error) {
	for _, op := range ops {
		op.err = err
		op.wrote = false
	}
}

// applyUpdates runs ops, all updates, in one statement (updateMany) inside
// the batch's transaction and sets each op's result. An update that did
// not write is told apart as apply does: a missing record or a conflict.
// The error returned is the statement's own, which fails every op.
func (c *committer) applyUpdates(ctx context.Context, tx *sql.Tx, ops []*writeOp) error {
	keys := make([]string, 0, len(ops))
	olds := make([]string, 0, len(ops))
	datas := make([]string, 0, len(ops))
	exps := make([]time.Time, 0, len(ops))
	sent := make([]*writeOp, 0, len(ops)) // ops in the statement, by ordinal - 1
	for _, op := range ops {
		op.wrote, op.err = false, nil
		t, err := instant{op.rec.Expires}.Value()
		if err != nil {
			// An expiry the column cannot hold fails its own update only.
			op.err = fmt.Errorf("expiry: %w", err)
			continue
		}
		keys, olds, datas = append(keys, op.rec.Key), append(olds, op.old), append(datas, op.rec.Data)
		exps = append(exps, t.(time.Time))
		sent = append(sent, op)
	}
	if len(sent) == 0 {
		return nil
	}
	rows, err := tx.StmtContext(ctx, c.stmts.updateMany).QueryContext(ctx, keys, olds, datas, exps)
	if err != nil {
		failAll(sent, err)
		return err
	}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			failAll(sent, err)
			return err
		}
		if i < 1 || i > len(sent) {
			rows.Close()
			err := fmt.Errorf("update returned ordinal %d of %d", i, len(sent))
			failAll(sent, err)
			return err
		}
		sent[i-1].wrote = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		failAll(sent, err)
		return err
	}
	for _, op := range sent {
		if op.wrote {
			continue
		}
		if op.err = c.missed(ctx, tx, op); failed(op.err) {
			return op.err
		}
	}
	return nil
}

// apply runs one operation inside the batch's transaction.
func (c *committer) apply(ctx context.Context, tx *sql.Tx, op *writeOp) error {
	var (
		res sql.Result
		err error
	)
	switch op.kind {
	case opCreate:
		res, err = tx.StmtContext(ctx, c.stmts.create).ExecContext(ctx, op.rec.Key, op.rec.Data, c.timeArg(op.rec.Expires))
	case opUpdate:
		res, err = tx.StmtContext(ctx, c.stmts.update).ExecContext(ctx, op.rec.Data, c.timeArg(op.rec.Expires), op.rec.Key, op.old)
	case opDelete:
		if op.old == "" {
			res, err = tx.StmtContext(ctx, c.stmts.delete).ExecContext(ctx, op.rec.Key)
		} else {
			res, err = tx.StmtContext(ctx, c.stmts.deleteIf).ExecContext(ctx, op.rec.Key, op.old)
		}
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		op.wrote = true
		return nil
	}
	switch op.kind {
	case opCreate:
		return session.ErrExists
	case opDelete:
		if op.old == "" {
			return nil
		}
	}
	return c.missed(ctx, tx, op)
}

// missed is the result of op, an update or a conditional delete, that
// changed nothing: ErrNotFound or ErrConflict.
func (c *committer) missed(ctx context.Context, tx *sql.Tx, op *writeOp) error {
	// Nothing changed: a missing record, or one whose data moved on. On
	// SQLite the transaction holds the write lock, so the answer is exact;
	// on PostgreSQL the UPDATE waited for any transaction writing the row
	// and this SELECT sees what it committed: the answer is the row's
	// state now, which is as good.
	var one int
	err := tx.StmtContext(ctx, c.stmts.exists).QueryRowContext(ctx, op.rec.Key).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return session.ErrNotFound
	case err != nil:
		return err
	}
	return session.ErrConflict
}
