package xapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCreatePost measures the client's own cost per post against a
// trivial server on loopback: encoding, headers, the trace, reading and
// decoding the answer.
func BenchmarkCreatePost(b *testing.B) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-rate-limit-limit", "100")
		w.Header().Set("x-rate-limit-remaining", "99")
		w.Header().Set("x-rate-limit-reset", "1782907200")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"data":{"id":"1445880548472328192","text":"hello"}}`))
	}))
	defer s.Close()
	c, err := New(Options{BaseURL: s.URL, Auth: BearerToken("t"), OnRateLimit: func(RateLimit) {}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	post := NewPost{Text: "hello", MediaIDs: []string{"1146654567674912769"}, ReplyTo: "1445880548472328191"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.CreatePost(ctx, post); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
