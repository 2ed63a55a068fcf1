using System.Globalization;
using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;
using Compress.Engine.Spec;
using Compress.Engine.Tests.Data;
using SkiaSharp;

namespace Compress.Engine.Tests.Reporting;

/// <summary>One real build (layerwise pruning with a sensitivity scan, so every section of the report has data), shared by the report tests.</summary>
public sealed class LayerwiseBuild : IDisposable
{
    private readonly TempDirectory _dir = new();

    public LayerwiseBuild()
    {
        string folder = _dir.Combine("project");
        Directory.CreateDirectory(folder);
        SpecPath = Path.Combine(folder, "net.json");
        System.IO.File.WriteAllText(SpecPath, """
            {
              "name": "net",
              "model": { "architecture": "resnet18-cifar", "widthMultiplier": 0.0625 },
              "syntheticTrain": 320,
              "syntheticTest": 160,
              "baselineEpochs": 1,
              "fineTuneEpochs": 0,
              "method": "layerwise",
              "sensitivity": "auto",
              "targetSize": 0.5,
              "sensitivityMaxDrop": 100,
              "minAccuracy": 0,
              "outputDirectory": "bin",
              "intermediateDirectory": "obj",
              "cacheDirectory": "cache"
            }
            """);
        Report = SpecJob.Run(SpecPath, new CollectingSink());
    }

    public string SpecPath { get; }
    public BuildReport Report { get; }
    public string Folder => _dir.Combine("project");
    public string File(string name) => _dir.Combine("project", "bin", name);

    public void Dispose() => _dir.Dispose();
}

public sealed class BuildReportViewTests(LayerwiseBuild build) : IClassFixture<LayerwiseBuild>
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    [Fact]
    public async Task ReportHtml_InHeadlessChromiumOffline_RendersEveryImageAndTheNumbersAndRequestsNothing()
    {
        string html = build.File("net.report.html");
        var report = build.Report;
        using var browser = await HeadlessChromium.StartAsync(1100, 900);

        await browser.OpenAsync(html);

        // Every image (the charts are SVG data URIs) decoded; there are the curve, bars, histogram and heat-map.
        Assert.True((int)(await browser.EvaluateAsync("document.images.length"))! >= 4);
        Assert.True((bool)(await browser.EvaluateAsync("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)"))!);
        Assert.True((bool)(await browser.EvaluateAsync("!!document.getElementById('sensitivity-heatmap') && !!document.getElementById('cosine-plot')"))!);
        string text = (string)(await browser.EvaluateAsync("document.body.innerText"))!;
        Assert.Contains("Gate passed", text, StringComparison.Ordinal);
        Assert.Contains(report.Rate.Value.ToString("0.####", C), text, StringComparison.Ordinal);
        Assert.Contains(report.Accuracy.Onnx.ToString("F2", C) + "%", text, StringComparison.Ordinal);
        Assert.Contains(report.Accuracy.Unpruned.ToString("F2", C) + "%", text, StringComparison.Ordinal);
        Assert.Contains(report.Structure!.BytesAfter.ToString("N0", C), text, StringComparison.Ordinal);
        // Nothing left the file: the page itself is the only request that is not a data URI.
        Assert.All(browser.Requests, url => Assert.True(url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
        Assert.Contains(browser.Requests, url => url.StartsWith("file:", StringComparison.Ordinal));

        // The page renders: a full-page screenshot of sane size, mostly not blank.
        byte[] png = await browser.ScreenshotAsync();
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(1100, bitmap.Width);
        Assert.InRange(bitmap.Height, 1500, 20_000);
        var colours = new HashSet<uint>();
        int inked = 0, samples = 0;
        for (int y = 0; y < bitmap.Height; y += 7)
            for (int x = 0; x < bitmap.Width; x += 7)
            {
                var p = bitmap.GetPixel(x, y);
                colours.Add((uint)p);
                samples++;
                if (p.Red + p.Green + p.Blue < 600) inked++;
            }
        Assert.True(colours.Count > 100, $"{colours.Count} colours");
        Assert.True(inked > samples / 50, $"{inked} of {samples} sampled pixels are not near-white");
    }

    [Fact]
    public async Task HeadlessChromium_SeesABrokenImageAndARequestThatWouldLeaveTheFile()
    {
        // The checks above can fail: a damaged chart and an image from the network are both caught.
        string html = File.ReadAllText(build.File("net.report.html"));
        int at = html.IndexOf("base64,", StringComparison.Ordinal) + "base64,".Length;
        string damaged = Path.Combine(build.Folder, "damaged.html");
        File.WriteAllText(damaged, html[..at] + "AAAA" + html[(at + 40)..].Replace("</main>", "<img src=\"http://example.invalid/x.png\"></main>", StringComparison.Ordinal));
        using var browser = await HeadlessChromium.StartAsync(1100, 900);

        await browser.OpenAsync(damaged);

        Assert.False((bool)(await browser.EvaluateAsync("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"))!);
        Assert.Contains(browser.Requests, url => url.StartsWith("http://example.invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void ReportHtml_IsSelfContained_WithAStrictContentPolicyAndOnlyDataUris()
    {
        string html = File.ReadAllText(build.File("net.report.html"));
        Assert.Contains("Content-Security-Policy\" content=\"default-src 'none'", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var sources = System.Text.RegularExpressions.Regex.Matches(html, "src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.True(sources.Count >= 4);
        Assert.All(sources, s => Assert.StartsWith("data:image/svg+xml;base64,", s, StringComparison.Ordinal));
        // The PNG plots drawn next to the intermediate files are linked relative to the HTML (bin/ -> obj/).
        Assert.Contains("href=\"../obj/net.sensitivity.png\"", html, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(build.Folder, "obj", "net.sensitivity.png")));
        Assert.DoesNotContain(build.Folder, html, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportMarkdown_HasTheVerdictAndTheBeforeAfterTableWithTheMeasuredNumbers()
    {
        string md = File.ReadAllText(build.File("net.report.md"));
        var s = build.Report.Structure!;
        Assert.StartsWith("## Compress: net: ✅ passed", md, StringComparison.Ordinal);
        Assert.Contains("| | unpruned | artifact | change |", md, StringComparison.Ordinal);
        Assert.Contains(string.Create(C, $"| file size (bytes) | {s.BytesBefore:N0} | {s.BytesAfter:N0} |"), md, StringComparison.Ordinal);
        Assert.Contains(string.Create(C, $"| gzip size (bytes) | {s.GzipBytesBefore:N0} | {s.GzipBytesAfter:N0} |"), md, StringComparison.Ordinal);
        Assert.Contains(string.Create(C, $"| nonzero parameters | {s.NonzerosBefore:N0} | {s.NonzerosAfter:N0} |"), md, StringComparison.Ordinal);
        Assert.Contains(string.Create(C, $"| top-1 accuracy (ONNX Runtime for the artifact) | {build.Report.Accuracy.Unpruned:F2}% | {build.Report.Accuracy.Onnx:F2}% |"), md, StringComparison.Ordinal);
        Assert.Contains("**CMP0624**", md, StringComparison.Ordinal);
        Assert.Contains("full report: `net.report.html`", md, StringComparison.Ordinal);
    }

    [Fact]
    public void CompressReport_RendersTheSameHtmlAndMarkdownAgainFromTheJson()
    {
        string json = build.File("net.report.json");
        string again = Path.Combine(build.Folder, "again");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = CliApp.Run(["report", json, "--output-dir", again], stdout, stderr);

        Assert.True(code == 0, stderr.ToString());
        Assert.Equal(File.ReadAllText(build.File("net.report.html")), File.ReadAllText(Path.Combine(again, "net.report.html")));
        Assert.Equal(File.ReadAllText(build.File("net.report.md")), File.ReadAllText(Path.Combine(again, "net.report.md")));
        Assert.Contains("net.report.html", stdout.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.report.json", null, "does not exist")]
    [InlineData("broken.report.json", "{ \"name\": ", "not valid JSON")]
    [InlineData("other.report.json", "{ \"accuracy\": 1 }", "not a build report")]
    public void CompressReport_BadFile_FailsWithCmp0625AndThePath(string name, string? content, string expected)
    {
        string path = Path.Combine(build.Folder, name);
        if (content is not null) File.WriteAllText(path, content);
        var stderr = new StringWriter();

        int code = CliApp.Run(["report", path], new StringWriter(), stderr);

        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0625", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(path, stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.ChangeExtension(path, null) + ".html"));
    }

    [Fact]
    public void CiSummary_AppendsToTheGitHubSummaryAndAsksAzureToUploadIt()
    {
        string summary = Path.Combine(build.Folder, "step-summary.md");
        File.WriteAllText(summary, "earlier step\n");
        var sink = new CollectingSink();
        var environment = new Dictionary<string, string> { ["GITHUB_STEP_SUMMARY"] = summary, ["TF_BUILD"] = "True" };

        CiSummary.Publish(build.File("net.report.md"), sink, environment.GetValueOrDefault);

        string text = File.ReadAllText(summary);
        Assert.StartsWith("earlier step\n## Compress: net: ✅ passed", text, StringComparison.Ordinal);
        Assert.Contains(sink.ProgressLines, l => l == "##vso[task.uploadsummary]" + build.File("net.report.md"));

        var quiet = new CollectingSink();
        CiSummary.Publish(build.File("net.report.md"), quiet, _ => null);
        Assert.Empty(quiet.ProgressLines);
    }

    [Fact]
    public void SensitivityHeatmap_HasACellPerLayerAndSparsity()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(build.File("net.report.json")));
        var scan = build.Report.Sensitivity!;
        string html = File.ReadAllText(build.File("net.report.html"));
        string heatmap = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(
            System.Text.RegularExpressions.Regex.Match(html, "id=\"sensitivity-heatmap\"><img alt=\"[^\"]*\" src=\"data:image/svg\\+xml;base64,([^\"]+)\"").Groups[1].Value));
        int cells = System.Text.RegularExpressions.Regex.Count(heatmap, "<rect [^>]*><title>");
        Assert.Equal(scan.Layers.Count * scan.Sparsities.Count, cells);
        Assert.Equal(scan.Layers.Count, json.RootElement.GetProperty("sensitivity").GetProperty("layers").GetArrayLength());
    }
}
