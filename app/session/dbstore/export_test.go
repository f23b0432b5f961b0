package dbstore

// QueueLen returns the number of writes waiting for the committer.
func QueueLen(s *Store) int {
	s.commit.mu.Lock()
	defer s.commit.mu.Unlock()
	return len(s.commit.queue)
}
