package apply

// Test hooks: failure injection and a fake kernel.
func (o *Options) setFailAfter(n int) { o.failAfter = n }
func (o *Options) setOps(ops netOps)  { o.ops = ops }
