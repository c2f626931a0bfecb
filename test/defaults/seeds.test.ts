/**
 * Objects from the seed documents (the StatefulSet + headless Service example of the Kubernetes
 * docs), compared with what `kubectl get -o yaml` shows for them on a real cluster.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaulted, y } from "./helpers.js";

describe("seed objects as a real API server stores them", () => {
  it("the headless nginx Service", () => {
    const svc = defaulted(`
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels: {app: nginx}
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector: {app: nginx}
`);
    assert.deepEqual(
      svc["spec"],
      y(`
clusterIP: None
internalTrafficPolicy: Cluster
ports:
- name: web
  port: 80
  protocol: TCP
  targetPort: 80
selector: {app: nginx}
sessionAffinity: None
type: ClusterIP
`),
    );
  });

  it("the web StatefulSet with its www claim template", () => {
    const ss = defaulted(`
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: "nginx"
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.8
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
`);
    assert.deepEqual(
      ss["spec"],
      y(`
persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}
podManagementPolicy: OrderedReady
replicas: 2
revisionHistoryLimit: 10
selector: {matchLabels: {app: nginx}}
serviceName: nginx
template:
  metadata:
    labels: {app: nginx}
  spec:
    containers:
    - image: nginx:1.8
      imagePullPolicy: IfNotPresent
      name: nginx
      ports:
      - containerPort: 80
        name: web
        protocol: TCP
      resources: {}
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
      volumeMounts:
      - mountPath: /usr/share/nginx/html
        name: www
    dnsPolicy: ClusterFirst
    restartPolicy: Always
    schedulerName: default-scheduler
    securityContext: {}
    terminationGracePeriodSeconds: 30
updateStrategy:
  rollingUpdate: {partition: 0}
  type: RollingUpdate
volumeClaimTemplates:
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: www}
  spec:
    accessModes: [ReadWriteOnce]
    resources:
      requests: {storage: 1Gi}
    volumeMode: Filesystem
  status: {phase: Pending}
`),
    );
  });
});
