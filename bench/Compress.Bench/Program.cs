Console.WriteLine("benchmarks arrive with the analysis and training work");
return 0;
