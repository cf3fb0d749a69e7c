// The kube-apiserver build's wrapper module, derived from k8s.io/kubernetes's own go.mod: every
// staging module it replaces with a ./staging path is pinned to its published v0.<minor> tag.
import test from 'ava';
import { stagingModules, wrapperGoMod } from '../../scripts/kube-apiserver.ts';

const kubernetesGoModExcerpt = `module k8s.io/kubernetes

go 1.26.0

require (
	github.com/spf13/cobra v1.10.0
	k8s.io/api v0.0.0
	k8s.io/apiserver v0.0.0
)

replace k8s.io/kms => ./staging/src/k8s.io/kms

replace (
	github.com/example/fork => github.com/example/fork v1.2.3
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apiserver => ./staging/src/k8s.io/apiserver
	k8s.io/kube-aggregator => ./staging/src/k8s.io/kube-aggregator
)
`;

test('staging modules: exactly the k8s.io modules replaced by ./staging paths, single-line and block replaces alike', (t) => {
  t.deepEqual(stagingModules(kubernetesGoModExcerpt), [
    'k8s.io/api',
    'k8s.io/apiserver',
    'k8s.io/kms',
    'k8s.io/kube-aggregator',
  ]);
});

test('wrapper go.mod: requires k8s.io/kubernetes v1.X.Y and pins each staging module to v0.X.Y', (t) => {
  const goMod = wrapperGoMod('v1.37.2', ['k8s.io/api', 'k8s.io/kms']);
  t.regex(goMod, /^require k8s\.io\/kubernetes v1\.37\.2$/m);
  t.regex(goMod, /^\tk8s\.io\/api => k8s\.io\/api v0\.37\.2$/m);
  t.regex(goMod, /^\tk8s\.io\/kms => k8s\.io\/kms v0\.37\.2$/m);
  t.regex(goMod, /^tool k8s\.io\/kubernetes\/cmd\/kube-apiserver$/m);
  t.notRegex(goMod, /staging/);
});
