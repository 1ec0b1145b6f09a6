using System.Diagnostics;
using CurpStore.Rpc;
using CurpStore.Server.Configuration;
using CurpStore.Server.Tests.Processes;
using CurpStore.Server.Transport;

namespace CurpStore.Server.Tests.Security;

/// <summary>A throwaway PKI made by <c>scripts/make-test-certs.sh</c> in a folder of the test's harness: the CA, member
/// certificates m1..m4, client certificates (CN root and alice) and a certificate of another CA ("rogue").</summary>
internal sealed class TestCertificates
{
    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    public string Ca => File("ca.crt");

    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>Runs the script into <c>ROOT/certs</c> (bounded) and fails the test with its output if it fails.</summary>
    public static async Task<TestCertificates> MakeAsync(ServerProcessHarness harness)
    {
        var directory = Path.Combine(harness.Root, "certs");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(ClusterProcessTests.RepositoryRoot(), "scripts", "make-test-certs.sh"));
        info.ArgumentList.Add(directory);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("bash did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.AreEqual(0, process.ExitCode, $"make-test-certs.sh failed (is openssl installed?): {await output}{await errors}");
        return new TestCertificates(directory);
    }

    /// <summary>etcdctl's TLS flags for the certificate pair <paramref name="name"/> (.crt/.key), trusting the CA.</summary>
    public string[] Etcdctl(string name) => ["--cacert", Ca, "--cert", File(name + ".crt"), "--key", File(name + ".key")];

    /// <summary>A member's TLS flags, client and peer side, with both client-certificate checks on.</summary>
    public string[] MemberFlags(string name) =>
    [
        "--cert-file", File(name + ".crt"), "--key-file", File(name + ".key"), "--trusted-ca-file", Ca, "--client-cert-auth",
        "--peer-cert-file", File(name + ".crt"), "--peer-key-file", File(name + ".key"), "--peer-trusted-ca-file", Ca, "--peer-client-cert-auth",
    ];

    /// <summary>A channel to an https endpoint that shows the certificate <paramref name="name"/> and trusts the CA.</summary>
    public GrpcChannel Channel(string endpoint, string name = "client")
    {
        var credentials = TlsCredentials.Load(new TlsInfo { CertFile = File(name + ".crt"), KeyFile = File(name + ".key"), TrustedCaFile = Ca }, "");
        return new GrpcChannel(new Uri(endpoint), new GrpcChannelOptions { SslOptions = credentials.ClientOptions() });
    }
}
