// The process test brings a cluster up in namespaces of its own; the proxy tests use loopback ports the OS picks.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel)]
