package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// decodeManifest decodes one YAML document strictly (unknown or duplicate
// fields fail) into the Kubernetes API type of its kind.
func decodeManifest(t *testing.T, where string, doc []byte) any {
	t.Helper()
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var obj any
	switch head.Kind {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "Service":
		obj = &corev1.Service{}
	case "PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "ConfigMap":
		obj = &corev1.ConfigMap{}
	case "Secret":
		obj = &corev1.Secret{}
	case "Namespace":
		obj = &corev1.Namespace{}
	default:
		t.Fatalf("%s: kind %q has no API type in this test", where, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Errorf("%s (%s): %v", where, head.Kind, err)
	}
	return obj
}

// kustomization is the part of kustomize's file format the manifests use,
// decoded strictly: a misspelt key fails here, not at apply time.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels,omitempty"`
	Resources []string `json:"resources,omitempty"`
	Images    []struct {
		Name, NewTag string
	} `json:"images,omitempty"`
	Patches []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
	ConfigMapGenerator []struct {
		Name     string   `json:"name"`
		Behavior string   `json:"behavior,omitempty"`
		Files    []string `json:"files"`
	} `json:"configMapGenerator,omitempty"`
	SecretGenerator []struct {
		Name string   `json:"name"`
		Envs []string `json:"envs"`
	} `json:"secretGenerator,omitempty"`
}

// The Kubernetes manifests (base and example overlay) decode strictly into
// the Kubernetes API types; the files the kustomizations name exist; the
// plans they ship are valid; and the Deployment keeps its probes and
// restrictive security context. Where kubectl is installed, the overlay
// is also rendered and every rendered object decoded strictly.
func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	root := "../../deploy/kubernetes"
	var deployment *appsv1.Deployment
	for _, dir := range []string{"base", "overlays/example"} {
		b, err := os.ReadFile(filepath.Join(root, dir, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var k kustomization
		if err := yaml.UnmarshalStrict(b, &k); err != nil {
			t.Fatalf("%s/kustomization.yaml: %v", dir, err)
		}
		var manifests, others []string
		for _, r := range k.Resources {
			if strings.HasSuffix(r, ".yaml") {
				manifests = append(manifests, r)
			} else {
				others = append(others, r)
			}
		}
		for _, p := range k.Patches {
			manifests = append(manifests, p.Path)
		}
		for _, g := range k.ConfigMapGenerator {
			for _, f := range g.Files {
				if r := herald(t, "", "validate", filepath.Join("deploy/kubernetes", dir, f)); r.code != exitOK {
					t.Errorf("%s/%s: the plan is invalid:\n%s%s", dir, f, r.stdout, r.stderr)
				}
			}
		}
		for _, g := range k.SecretGenerator {
			others = append(others, g.Envs...)
		}
		for _, f := range others {
			if _, err := os.Stat(filepath.Join(root, dir, f)); err != nil {
				t.Errorf("%s/kustomization.yaml: %v", dir, err)
			}
		}
		for _, m := range manifests {
			b, err := os.ReadFile(filepath.Join(root, dir, m))
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := decodeManifest(t, dir+"/"+m, b).(*appsv1.Deployment); ok && dir == "base" {
				deployment = d
			}
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment in the base")
	}
	checkDeployment(t, deployment)

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl is not installed: the overlay is not rendered")
		return
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(root, "overlays/example")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize overlays/example: %v", err)
	}
	kinds := map[string]int{}
	for i, doc := range bytes.Split(out, []byte("\n---\n")) {
		obj := decodeManifest(t, fmt.Sprintf("rendered document %d", i+1), doc)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			kinds["Deployment"]++
			checkDeployment(t, o)
			if len(o.Spec.Selector.MatchLabels) == 0 {
				t.Error("the rendered Deployment selects no labels")
			}
		case *policyv1.PodDisruptionBudget:
			kinds["PodDisruptionBudget"]++
			if o.Spec.Selector == nil || len(o.Spec.Selector.MatchLabels) == 0 {
				t.Error("the rendered PodDisruptionBudget selects no pods")
			}
		case *corev1.Service:
			kinds["Service"]++
		}
	}
	for _, k := range []string{"Deployment", "PodDisruptionBudget", "Service"} {
		if kinds[k] != 1 {
			t.Errorf("the overlay renders %d %s, want 1", kinds[k], k)
		}
	}
}

func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("the liveness probe is not GET /healthz")
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("the readiness probe is not GET /readyz")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("the container's security context is not restrictive: %+v", sc)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("the container has no memory request or limit")
	}
	// The decode cache is an emptyDir mounted where --cache-dir points.
	cacheDir := ""
	for i, a := range c.Args {
		if a == "--cache-dir" && i+1 < len(c.Args) {
			cacheDir = c.Args[i+1]
		}
	}
	emptyDirs := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.EmptyDir != nil {
			emptyDirs[v.Name] = true
		}
	}
	var cacheMounted bool
	for _, m := range c.VolumeMounts {
		cacheMounted = cacheMounted || (m.MountPath == cacheDir && emptyDirs[m.Name])
	}
	if cacheDir == "" || !cacheMounted {
		t.Errorf("--cache-dir %q is not an emptyDir volume", cacheDir)
	}
	secrets := map[string]bool{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			secrets[e.Name] = true
		}
	}
	for _, name := range []string{"HERALD_TOKEN_KEY", "HERALD_ADMIN_TOKENS"} {
		if !secrets[name] {
			t.Errorf("%s does not come from a Secret", name)
		}
	}
}
