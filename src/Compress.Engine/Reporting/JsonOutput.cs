using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compress.Engine.Reporting;

/// <summary>The one JSON style of every result: camelCase, indented, NaN/infinity as strings.</summary>
public static class JsonOutput
{
    /// <summary>Serializer settings shared by the CLI's <c>--json</c> output and result files.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Serialises <paramref name="value"/>.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes <paramref name="value"/> to <paramref name="path"/> through a temporary file (CMP0004 on failure).</summary>
    public static void WriteFile<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");
}
