using Compress.Engine.Runtime;

TorchRuntime.EnsureLoaded();
Console.WriteLine("compress: engine loaded");
return 0;
