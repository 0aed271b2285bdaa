package trace

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func rec(kind Kind, target, rule, tool string) Record {
	r := Record{Server: "s", Run: "r1", Kind: kind, Target: target, Decision: DecisionDeny, Rule: rule}
	if tool != "" {
		r.MCP.InFlight = []CallRef{{ID: json.RawMessage("1"), Method: "tools/call", Tool: tool}}
	}
	return r
}

func TestSuggestGroupsAndWarns(t *testing.T) {
	var recs []Record
	for range 2 {
		recs = append(recs,
			rec(KindNetwork, "api.github.com:443", "not in network.allowedDomains", "fetch"),
			rec(KindNetwork, "raw.github.com:443", "not in network.allowedDomains", "fetch"),
			rec(KindNetwork, "example.org:8080", "not in network.allowedDomains", "get"),
			rec(KindFSWrite, "/home/u/out/a.txt", "not in filesystem.allowWrite", "save"),
			rec(KindFSWrite, "/p/.git/hooks/x", "mandatory deny: /p/.git/hooks", "save"),
			rec(KindFSRead, "/home/u/.ssh/id_rsa", "filesystem.denyRead: /home/u/.ssh", "read"),
		)
	}
	recs = append(recs, rec(KindNetwork, "once.example:443", "not in network.allowedDomains", ""))
	sums := Summarize(recs)
	if len(sums) != 1 || sums[0].Events != 13 || sums[0].ByKind[KindNetwork] != 7 {
		t.Fatalf("summary %+v", sums)
	}
	got := Suggest(sums[0], 2)
	want := []Suggestion{
		{Setting: "filesystem.allowRead", Value: "/home/u/.ssh/id_rsa", Count: 2, Targets: []string{"/home/u/.ssh/id_rsa"}, Tools: []string{"read"}, Warning: "re-opens a path denied for reading (credentials are denied on purpose)"},
		{Setting: "filesystem.allowWrite", Value: "/home/u/out", Count: 2, Targets: []string{"/home/u/out/a.txt"}, Tools: []string{"save"}},
		{Setting: "network.allowedDomains", Value: "*.github.com", Count: 4, Targets: []string{"api.github.com:443", "raw.github.com:443"}, Tools: []string{"fetch"}},
		{Setting: "network.allowedDomains", Value: "example.org:8080", Count: 2, Targets: []string{"example.org:8080"}, Tools: []string{"get"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suggestions (-want +got):\n%s", diff)
	}
	patch, _ := json.Marshal(Patch(got))
	if string(patch) != `{"filesystem":{"allowRead":["/home/u/.ssh/id_rsa"],"allowWrite":["/home/u/out"]},"network":{"allowedDomains":["*.github.com","example.org:8080"]}}` {
		t.Errorf("patch %s", patch)
	}
}

func TestFileNameCannotEscape(t *testing.T) {
	for in, want := range map[string]string{"probe": "probe.jsonl", "../../etc/x": "_.._etc_x.jsonl", "": "server.jsonl", "a b/c": "a_b_c.jsonl", "..": "server.jsonl"} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}
