package shipper

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// fakePodLogAPI speaks the two API calls PodLogs makes, as kube-apiserver answers them:
// the pod list (JSON) and GET …/pods/{name}/log (plain text, one "<RFC3339Nano> <line>" per
// line with timestamps=true). The real endpoint, through the test bed's kube-apiserver and the
// kubelet's log reader, is exercised by test/integration/shipper.test.ts; this one checks the
// requests (previous=true for restarted containers) and the window's edges.
type fakePodLogAPI struct {
	mu       sync.Mutex
	requests []string
	logs     map[string]string // "<pod>/<container>[/previous]" → body
}

func (f *fakePodLogAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.RequestURI())
	f.mu.Unlock()
	switch r.URL.Path {
	case "/api/v1/namespaces/readings/pods":
		if r.URL.Query().Get("labelSelector") != "app.kubernetes.io/name=readings" {
			http.Error(w, "bad selector", http.StatusBadRequest)
			return
		}
		pods := corev1.PodList{Items: []corev1.Pod{pod("readings-a", "node-1", 0), pod("readings-b", "node-2", 1)}}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(pods)
	case "/api/v1/namespaces/readings/pods/readings-a/log", "/api/v1/namespaces/readings/pods/readings-b/log":
		q := r.URL.Query()
		if q.Get("timestamps") != "true" || q.Get("sinceTime") == "" {
			http.Error(w, "want timestamps and sinceTime", http.StatusBadRequest)
			return
		}
		key := r.URL.Path[len("/api/v1/namespaces/readings/pods/"):len(r.URL.Path)-len("/log")] + "/" + q.Get("container")
		if q.Get("previous") == "true" {
			key += "/previous"
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, f.logs[key])
	default:
		http.NotFound(w, r)
	}
}

func pod(name, node string, restarts int32) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "readings"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "readings"}}},
		Status:     corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "readings", RestartCount: restarts}}},
	}
}

func TestPodLogsAgainstAStandInLogEndpoint(t *testing.T) {
	api := &fakePodLogAPI{logs: map[string]string{
		"readings-a/readings":          "2026-11-30T12:00:01Z " + requestLine + "\n2026-11-30T12:00:10Z " + requestLine + "\n",
		"readings-b/readings":          "2026-11-30T12:00:02Z " + requestLine + "\n",
		"readings-b/readings/previous": "2026-11-30T11:59:59Z old\n2026-11-30T12:00:00.5Z " + `{"time":"2026-11-30T12:00:00.5Z","level":"ERROR","msg":"crashed"}` + "\n",
	}}
	server := httptest.NewServer(api)
	defer server.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	source := &PodLogs{Client: client, Namespace: "readings", Selector: "app.kubernetes.io/name=readings"}
	w := WindowAt(mustTime(t, "2026-11-30T12:00:00Z"), 10*time.Second)
	rows, err := source.Rows(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rows {
		got[r.Pod+"/"+r.Node+"/"+r.Msg]++
	}
	want := map[string]int{"readings-a/node-1/request": 1, "readings-b/node-2/request": 1, "readings-b/node-2/crashed": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v (requests %v)", got, want, api.requests)
	}
	for _, uri := range api.requests {
		if strings.Contains(uri, "/log?") && !strings.Contains(uri, "sinceTime=2026-11-30T12%3A00%3A00Z") {
			t.Errorf("sinceTime is not the window's start: %s", uri)
		}
	}
}
