namespace System.Runtime.CompilerServices;

/// <summary>Lets records compile for netstandard2.0 (the type ships in .NET 5 and later only).</summary>
internal static class IsExternalInit
{
}
