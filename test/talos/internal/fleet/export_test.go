package fleet

// InNetns lets the package's external tests enter a namespace as the fleet does.
var InNetns = inNetns
