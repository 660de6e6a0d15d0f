package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get calls url and decodes the JSON object of strings it answers.
func get(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("GET %s: Content-Type is %q, want application/json", url, got)
	}
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: the body is not a JSON object of strings: %v", url, err)
	}
	return res.StatusCode, body
}

func TestRoutes(t *testing.T) {
	server := httptest.NewServer(newHandler())
	defer server.Close()

	cases := []struct {
		path string
		want map[string]string
	}{
		{"/healthz", map[string]string{"status": "ok"}},
		{"/hello?name=Ada%20Lovelace", map[string]string{"message": "Hello, Ada Lovelace"}},
		{"/hello", map[string]string{"message": "Hello, world"}},
	}
	for _, c := range cases {
		status, body := get(t, server.URL+c.path)
		if status != http.StatusOK || !maps.Equal(body, c.want) {
			t.Errorf("GET %s = %d %v, want 200 %v", c.path, status, body, c.want)
		}
	}
}

func TestUnknownPathAndOtherMethods(t *testing.T) {
	server := httptest.NewServer(newHandler())
	defer server.Close()

	res, err := http.Get(server.URL + "/nope")
	if err != nil {
		t.Fatalf("GET /nope: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", res.StatusCode)
	}

	res, err = http.Post(server.URL+"/healthz", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatalf("POST /healthz: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", res.StatusCode)
	}
}
