package shim

import (
	"sync"
	"time"
)

// limiter lets one event per key through per interval and counts the rest.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	last     map[string]time.Time
	dropped  map[string]int
}

func newLimiter(interval time.Duration) *limiter {
	return &limiter{interval: interval, last: map[string]time.Time{}, dropped: map[string]int{}}
}

// allow reports whether an event for key may be shown now, and how many
// were held back since the last one shown.
func (l *limiter) allow(key string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if t, seen := l.last[key]; seen && now.Sub(t) < l.interval {
		l.dropped[key]++
		return 0, false
	}
	n := l.dropped[key]
	l.last[key], l.dropped[key] = now, 0
	return n, true
}
