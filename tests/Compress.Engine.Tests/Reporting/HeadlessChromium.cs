using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Compress.Engine.Tests.Reporting;

/// <summary>
/// A real browser for the report tests: Debian's headless Chromium driven over the DevTools protocol (a WebSocket),
/// with the network cut off (offline emulation, an unreachable proxy, no DNS), every request the page makes recorded,
/// JavaScript evaluated against the loaded DOM, and full-page screenshots. When Chromium is missing and the tests run
/// as root on a Debian-like machine it is installed with apt-get (what .ci/run does first); otherwise the test fails
/// saying how to install it.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonObject> _events = [];
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>URLs of every request the page made (Network.requestWillBeSent).</summary>
    public IReadOnlyList<string> Requests => [.. _events.Where(e => (string?)e["method"] == "Network.requestWillBeSent")
        .Select(e => (string?)e["params"]?["request"]?["url"] ?? "")];

    /// <summary>The Chromium executable, installing Debian's package when possible.</summary>
    public static string Executable()
    {
        foreach (string? candidate in new[] { Environment.GetEnvironmentVariable("COMPRESS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" })
            if (!string.IsNullOrEmpty(candidate) && File.Exists(candidate)) return candidate;
        if (OperatingSystem.IsLinux() && File.Exists("/usr/bin/apt-get") && Environment.UserName == "root")
        {
            Run("/usr/bin/apt-get", "update -qq");
            Run("/usr/bin/apt-get", "install -y -qq chromium");
            if (File.Exists("/usr/bin/chromium")) return "/usr/bin/chromium";
        }
        throw new InvalidOperationException(
            "The report tests need Chromium: apt-get install chromium (Debian), or set COMPRESS_CHROMIUM to a Chromium or Chrome executable. .ci/run installs it.");
    }

    private static void Run(string file, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
    }

    /// <summary>Starts a headless browser with the network disabled and attaches to its page.</summary>
    public static async Task<HeadlessChromium> StartAsync(int width, int height)
    {
        string exe = Executable();
        string profile = Path.Combine(Path.GetTempPath(), "compress-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
                     "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--hide-scrollbars",
                     $"--window-size={width},{height}", "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank",
                 })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
            {
                if (process.HasExited) throw new InvalidOperationException($"Chromium exited with code {process.ExitCode} before it listened.");
                if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("Chromium did not open its DevTools port within 60 s.");
                await Task.Delay(100);
            }
            string port = File.ReadAllLines(portFile)[0].Trim();
            using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
            string? pageSocket = null;
            while (pageSocket is null)
            {
                var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
                pageSocket = targets.Select(t => t!).Where(t => (string?)t["type"] == "page").Select(t => (string?)t["webSocketDebuggerUrl"]).FirstOrDefault();
                if (pageSocket is null) await Task.Delay(100);
                if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("Chromium opened no page.");
            }
            await browser._socket.ConnectAsync(new Uri(pageSocket), CancellationToken.None);
            await browser.SendAsync("Network.enable");
            await browser.SendAsync("Page.enable");
            await browser.SendAsync("Network.emulateNetworkConditions", new JsonObject
            {
                ["offline"] = true, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = -1,
            });
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
            {
                ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false,
            });
            return browser;
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="file"/> and waits for its load event.</summary>
    public async Task OpenAsync(string file)
    {
        _events.Clear();
        await SendAsync("Page.navigate", new JsonObject { ["url"] = new Uri(Path.GetFullPath(file)).AbsoluteUri });
        await WaitForEventAsync("Page.loadEventFired", TimeSpan.FromSeconds(60));
    }

    /// <summary>The value of a JavaScript expression evaluated in the page.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is JsonNode error) throw new InvalidOperationException("JavaScript failed: " + error.ToJsonString());
        return result["result"]?["value"];
    }

    /// <summary>A PNG of the whole page at the window's width.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        return Convert.FromBase64String((string)result["data"]!);
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        while (true)
        {
            var reply = await ReceiveAsync(TimeSpan.FromSeconds(60));
            if ((int?)reply["id"] == id)
            {
                if (reply["error"] is JsonNode error) throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}");
                return reply["result"]?.AsObject() ?? [];
            }
        }
    }

    private async Task WaitForEventAsync(string method, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        if (_events.Any(e => (string?)e["method"] == method)) return;
        while ((string?)(await ReceiveAsync(timeout - clock.Elapsed))["method"] != method)
        {
        }
    }

    /// <summary>The next message; events are kept for <see cref="Requests"/>.</summary>
    private async Task<JsonObject> ReceiveAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(1));
        var buffer = new byte[1 << 16];
        using var text = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancel.Token);
            text.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        var message = JsonNode.Parse(text.ToArray())!.AsObject();
        if (message["method"] is not null) _events.Add(message);
        return message;
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold a file for a moment; the folder is in the temp directory.
        }
    }
}
