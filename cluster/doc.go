// Package cluster holds what the nodes of a Herald cluster share through
// Redis: the client (Open), the fire locks that let one node of many
// write each fire, and the lock in front of an account's token refresh.
//
// Redis is a fast path, never the guarantee: every caller keeps working
// when Redis is slow, down or split, because the store's unique keys and
// compare-and-swaps decide in the end. Whatever Redis answers, a node
// loses nothing and duplicates nothing; without Redis it only does more
// work (every node writes every fire, and each counts its share of a rate
// limit alone).
package cluster
