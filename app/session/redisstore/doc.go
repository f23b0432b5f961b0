// Package redisstore keeps sessions in Redis (go-redis v9): [Store] is
// Django's "cache" engine on Redis, with the session.Store contract.
//
// Sharing sessions with Django's cache engine is not a goal: Django
// pickles its cache values, which Go cannot read safely.
package redisstore
