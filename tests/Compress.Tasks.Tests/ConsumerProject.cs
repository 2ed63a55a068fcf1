namespace Compress.Tasks.Tests;

/// <summary>
/// The consumer project the build tests build: <c>app/app.csproj</c> importing the repository's build/Compress.props
/// and .targets (as the package would), with this test run's task assembly, the given engine and CompressModel items.
/// </summary>
internal static class ConsumerProject
{
    /// <summary>Writes <c>app/app.csproj</c> and a one-class source file under <paramref name="temp"/>.</summary>
    /// <param name="temp">The test's folder.</param>
    /// <param name="engine">CompressEnginePath (a compress.dll, or a shell script run by /bin/sh).</param>
    /// <param name="items">The CompressModel items.</param>
    /// <param name="properties">More property elements (e.g. CompressDotnetHost).</param>
    /// <param name="imports">More imports after Compress.props (e.g. CompressNative.targets).</param>
    public static void Write(TempFolder temp, string engine, string items, string properties = "", string imports = "")
    {
        var root = RepoPaths.Root.Replace('\\', '/');
        temp.File("app/app.csproj", $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{{root}}/build/Compress.props" />
              {{imports}}
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <CompressTasksAssembly>{{typeof(CompressModel).Assembly.Location}}</CompressTasksAssembly>
                <CompressEnginePath>{{engine}}</CompressEnginePath>
                {{properties}}
              </PropertyGroup>
              <ItemGroup>
                {{items}}
              </ItemGroup>
              <Import Project="{{root}}/build/Compress.targets" />
            </Project>
            """);
        temp.File("app/C.cs", "namespace App; public static class C { }");
    }
}
