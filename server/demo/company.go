package demo

import (
	"math/rand/v2"

	"conductportal/server/model"
)

// Departments of the sample company: a property-management firm whose
// customer-service department wrote the handbook.
const (
	deptService  = "客服部"
	deptWorks    = "工程部"
	deptSecurity = "保安部"
	deptHR       = "人力资源部"
	deptIT       = "信息部"
)

// staff are the accounts every demo has, by role.
var staff = []Account{
	{Login: "admin", Name: "系统管理员", Department: deptIT, Roles: []string{model.RoleAdmin}},
	{Login: "zhou.min", Name: "周敏", Department: deptHR, Roles: []string{model.RoleHR}},
	{Login: "wang.qiang", Name: "王强", Department: deptService, Roles: []string{model.RoleManager}, Manages: deptService},
	{Login: "li.jun", Name: "李军", Department: deptService, Roles: []string{model.RoleManager}, Manager: "wang.qiang"},
	{Login: "chen.jing", Name: "陈静", Department: deptService, Roles: []string{model.RoleManager}, Manager: "wang.qiang"},
	{Login: "zhao.lei", Name: "赵磊", Department: deptWorks, Roles: []string{model.RoleManager}},
	{Login: "sun.tao", Name: "孙涛", Department: deptSecurity, Roles: []string{model.RoleManager}},
}

// teams are the managers' teams, in the order the employees fill them.
var teams = []struct {
	manager, department string
	size                int
}{
	{"li.jun", deptService, 17}, {"chen.jing", deptService, 17}, {"zhao.lei", deptWorks, 14}, {"sun.tao", deptSecurity, 12},
}

// Family and given names with their pinyin, for the logins.
var (
	surnames = [][2]string{
		{"张", "zhang"}, {"刘", "liu"}, {"杨", "yang"}, {"黄", "huang"}, {"吴", "wu"}, {"徐", "xu"},
		{"胡", "hu"}, {"朱", "zhu"}, {"高", "gao"}, {"林", "lin"}, {"何", "he"}, {"郭", "guo"},
		{"马", "ma"}, {"罗", "luo"}, {"梁", "liang"}, {"宋", "song"}, {"郑", "zheng"}, {"谢", "xie"},
		{"韩", "han"}, {"唐", "tang"}, {"冯", "feng"}, {"董", "dong"}, {"程", "cheng"}, {"曹", "cao"},
		{"袁", "yuan"}, {"邓", "deng"}, {"彭", "peng"}, {"苏", "su"}, {"蒋", "jiang"}, {"蔡", "cai"},
		{"丁", "ding"}, {"魏", "wei"},
	}
	givenNames = [][2]string{
		{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"秀英", "xiuying"}, {"敏", "min"}, {"丽", "li"},
		{"洋", "yang"}, {"勇", "yong"}, {"艳", "yan"}, {"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"},
		{"明", "ming"}, {"超", "chao"}, {"霞", "xia"}, {"平", "ping"}, {"刚", "gang"}, {"桂英", "guiying"},
		{"建华", "jianhua"}, {"晓东", "xiaodong"}, {"海燕", "haiyan"}, {"志强", "zhiqiang"}, {"婷", "ting"},
		{"鹏", "peng"}, {"欣怡", "xinyi"}, {"子涵", "zihan"}, {"浩然", "haoran"}, {"雨轩", "yuxuan"},
		{"佳琪", "jiaqi"}, {"俊杰", "junjie"}, {"梦瑶", "mengyao"}, {"思远", "siyuan"}, {"文博", "wenbo"},
		{"春梅", "chunmei"}, {"国庆", "guoqing"}, {"红霞", "hongxia"}, {"立新", "lixin"},
	}
)

// Company returns the staff and the sixty employees, each employee with
// a story, the stories spread over the teams. It is the same every time.
func Company() []Account {
	out := append([]Account(nil), staff...)
	var stories []string
	for _, s := range Stories {
		for range storyCounts[s] {
			stories = append(stories, s)
		}
	}
	rng := rand.New(rand.NewPCG(18, 1)) // #nosec G404 -- the same sample company every time
	rng.Shuffle(len(stories), func(i, j int) { stories[i], stories[j] = stories[j], stories[i] })
	taken := map[string]bool{}
	for _, a := range out {
		taken[a.Login] = true
	}
	n := 0
	for _, t := range teams {
		for range t.size {
			var login, name string
			for k := n; ; k++ {
				s, g := surnames[k%len(surnames)], givenNames[(k*7+k/len(surnames))%len(givenNames)]
				login, name = s[1]+"."+g[1], s[0]+g[0]
				if !taken[login] {
					break
				}
			}
			taken[login] = true
			out = append(out, Account{Login: login, Name: name, Department: t.department, Manager: t.manager,
				Roles: []string{model.RoleEmployee}, Story: stories[n]})
			n++
		}
	}
	return out
}
