package tfprotov6server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

func TestStopProviderCancelsWorkInFlight(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer hanging.Close()
	defer close(release)
	host := strings.TrimPrefix(hanging.URL, "http://")

	s := newServer("test")
	state := imageValue(t, stored(configured(host+"/src/app:v1", host+"/mirror/app:v1", "")))
	done := make(chan *tfprotov6.ReadResourceResponse)
	go func() {
		resp, _ := s.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: "imagesync_image", CurrentState: state})
		done <- resp
	}()
	time.Sleep(100 * time.Millisecond) // let the refresh reach the hanging registry
	if _, err := s.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-done:
		if len(resp.Diagnostics) == 0 {
			t.Error("a refresh cut short by StopProvider reported no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadResource still running 10s after StopProvider")
	}
}
